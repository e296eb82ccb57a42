// The saved staff operations (operations/NN-<OperationName>.graphql), read at build time and
// bundled into the page, where they open as GraphiQL tabs and are listed in the "Staff tasks"
// panel. Each file is one named operation under a comment header:
//
//   # <Task>: what it does, for someone new to the back office (first paragraph).
//   #
//   # Scope: <scope>            (or "Scopes: <a> <b>" when it needs several)
//   # Variables: what to fill in and where each value comes from.
//   # Example variables: { ...JSON, may run over the following comment lines... }
//   query <OperationName>(...) { ... }
//
// The number orders the tabs. router/tests/it/graphiql_operations.rs checks every file against
// the supergraph and runs it on a real stack with exactly the header's scopes.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = /^(\d+)-([A-Za-z][A-Za-z0-9_]*)\.graphql$/;
const OPERATION = /^\s*(query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/m;

// → [{ file, name, kind, task, summary, scopes, variablesHelp, query, variables }] in tab order.
export async function loadStaffOperations(dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.graphql')).sort();
  const problems = [];
  const operations = [];
  for (const file of files) {
    try {
      operations.push(parseOperation(file, await readFile(join(dir, file), 'utf8')));
    } catch (error) {
      problems.push(`${file}: ${error.message}`);
    }
  }
  if (problems.length) throw new Error(`saved staff operations:\n  ${problems.join('\n  ')}`);
  return operations;
}

export function parseOperation(file, text) {
  const named = FILE.exec(file);
  if (!named) throw new Error('name it NN-<OperationName>.graphql');
  const lines = text.replace(/\r\n/g, '\n').trimEnd().split('\n');
  const headerLength = lines.findIndex((line) => !line.startsWith('#'));
  if (headerLength <= 0) throw new Error('no comment header');
  const header = lines.slice(0, headerLength).map((line) => line.replace(/^# ?/, ''));
  const body = lines.slice(headerLength).join('\n');

  const operation = OPERATION.exec(body);
  if (!operation) throw new Error('no named query, mutation or subscription after the header');
  const [, kind, name] = operation;
  if (name !== named[2]) throw new Error(`the operation is named ${name}; name the file NN-${name}.graphql`);

  const blank = header.indexOf('');
  const summary = header.slice(0, blank < 0 ? header.length : blank).join(' ').trim();
  const colon = summary.indexOf(': ');
  if (colon <= 0) throw new Error('the first line must read "<Task>: what it does"');

  const scopeLine = header.find((line) => /^Scopes?: /.test(line));
  if (!scopeLine) throw new Error('no "Scope: <scope>" line');
  const scopes = scopeLine.replace(/^Scopes?: /, '').trim().split(/\s+/);

  const variablesAt = header.findIndex((line) => line.startsWith('Variables: '));
  const exampleAt = header.findIndex((line) => line.startsWith('Example variables: '));
  if (variablesAt < 0 || exampleAt < variablesAt) {
    throw new Error('needs a "Variables: …" line followed by "Example variables: {…}"');
  }
  const variablesHelp = header
    .slice(variablesAt, exampleAt)
    .map((line) => line.trim())
    .join(' ')
    .replace(/^Variables: /, '');
  const exampleText = [header[exampleAt].replace(/^Example variables: /, ''), ...header.slice(exampleAt + 1)].join('\n');
  let example;
  try {
    example = JSON.parse(exampleText);
  } catch (error) {
    throw new Error(`the example variables are not JSON: ${error.message}`);
  }
  if (!example || typeof example !== 'object' || Array.isArray(example)) {
    throw new Error('the example variables must be a JSON object');
  }

  return {
    file,
    name,
    kind,
    task: summary.slice(0, colon),
    summary: summary.slice(colon + 2),
    scopes,
    variablesHelp,
    // The whole file: the header is the staff member's instructions, right above the operation.
    query: `${lines.join('\n')}\n`,
    variables: JSON.stringify(example, null, 2),
  };
}
