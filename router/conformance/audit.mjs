// GraphQL over HTTP conformance of a running router: every audit of graphql-http's
// `serverAudits` (the reference implementation's own list; MUST, SHOULD and MAY).
//
//   GRAPHQL_URL=http://127.0.0.1:4000/graphql node audit.mjs
//
// HEADERS (optional, JSON object) is added to every request: the router's CSRF prevention
// refuses requests without `x-tenor-client` (every real client sends it), and the audits are
// about GraphQL over HTTP, not about CSRF.
//
// Prints one JSON line { results: [{ id, name, status, reason?, httpStatus? }] }; exits 1 when a
// MUST audit failed (status "error"). SHOULD/MAY failures are "warn"/"notice".

import { serverAudits } from 'graphql-http';

const url = process.env.GRAPHQL_URL;
if (!url) {
  console.error('GRAPHQL_URL is required');
  process.exit(2);
}
const extra = JSON.parse(process.env.HEADERS || '{}');

async function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(extra)) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(10000) });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.httpStatus = result.response?.status;
  }
  results.push(entry);
}

console.log(JSON.stringify({ results }));
process.exit(results.some((r) => r.status === 'error') ? 1 : 0);
