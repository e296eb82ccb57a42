#!/usr/bin/env node
// Composes subgraph SDLs into a federation supergraph with Hive's own composer
// (@theguild/federation-composition), the composer whose output hive-router is built against.
//
// Input: a JSON array of {"name", "url", "typeDefs"} on stdin, or as a file path argument.
// Output: the supergraph SDL on stdout, exit 0. With `--json`: one JSON object
// {"supergraph": <supergraph SDL>, "client": <API schema SDL>} — the client schema is what the
// router serves to clients (no federation types or directives), what a mobile team feeds to
// Apollo Kotlin / Apollo iOS.
// Failure: every composition message on stderr (one per line, prefixed with its code), exit 1;
// unreadable or malformed input, exit 2.
//
// `tenor-router compose` drives this; it checks the result further and writes
// schema/supergraph.graphql.

import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

function fail(code, message) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
const json = args[0] === "--json";
if (json) args.shift();

let raw;
try {
  raw = readFileSync(args[0] ?? 0, "utf8");
} catch (e) {
  fail(2, `compose: cannot read input: ${e.message}`);
}

let subgraphs;
try {
  subgraphs = JSON.parse(raw);
} catch (e) {
  fail(2, `compose: input is not JSON: ${e.message}`);
}
if (!Array.isArray(subgraphs) || subgraphs.length === 0) {
  fail(2, "compose: input must be a non-empty JSON array of {name, url, typeDefs}");
}

const services = [];
const problems = [];
for (const [i, s] of subgraphs.entries()) {
  if (!s || typeof s.name !== "string" || typeof s.url !== "string" || typeof s.typeDefs !== "string") {
    problems.push(`entry ${i}: needs string fields name, url and typeDefs`);
    continue;
  }
  try {
    services.push({ name: s.name, url: s.url, typeDefs: parse(s.typeDefs, { noLocation: false }) });
  } catch (e) {
    problems.push(`subgraph ${s.name}: SDL does not parse: ${e.message}`);
  }
}
if (problems.length) {
  fail(2, problems.map((p) => `compose: ${p}`).join("\n"));
}

const result = composeServices(services);
if (result.errors && result.errors.length) {
  const lines = result.errors.map((e) => {
    const code = e.extensions?.code ? `[${e.extensions.code}] ` : "";
    return `composition error: ${code}${e.message}`;
  });
  fail(1, `${lines.join("\n")}\ncomposition failed with ${result.errors.length} error(s)`);
}
if (typeof result.supergraphSdl !== "string" || result.supergraphSdl.length === 0) {
  fail(1, "composition error: composer returned no supergraph SDL");
}

const withNewline = (sdl) => (sdl.endsWith("\n") ? sdl : `${sdl}\n`);
if (json) {
  if (typeof result.publicSdl !== "string" || result.publicSdl.length === 0) {
    fail(1, "composition error: composer returned no client (public) schema");
  }
  process.stdout.write(
    JSON.stringify({ supergraph: withNewline(result.supergraphSdl), client: withNewline(result.publicSdl) }),
  );
} else {
  process.stdout.write(withNewline(result.supergraphSdl));
}
