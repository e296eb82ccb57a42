// Talking to the router: same origin only (the page's Content-Security-Policy allows nothing
// else). Every request carries `x-tenor-client`, which the router's CSRF check requires.

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { Kind, parse } from 'graphql';
import { createClient } from 'graphql-ws';

export const CLIENT_HEADERS = {
  'x-tenor-client': 'backoffice-graphiql',
  'graphql-client-name': 'tenor-backoffice-graphiql',
};

// The router's GraphQL path, written into the page by the router (see router/src/graphiql/).
export function graphqlUrl() {
  const meta = document.querySelector('meta[name="tenor-graphql-endpoint"]');
  const path = meta?.getAttribute('content') || '/graphql';
  return new URL(path, window.location.href).toString();
}

function websocketUrl() {
  const url = new URL(graphqlUrl());
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

function authHeaders(token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

// A fetcher bound to one token: GraphiQL refetches the schema when the fetcher changes, which is
// what signing in must do (introspection needs a staff scope).
export function createFetcher(token) {
  // graphql-transport-ws; the router reads the client's headers from the connection_init payload.
  const wsClient = createClient({
    url: websocketUrl(),
    lazy: true,
    connectionParams: () => authHeaders(token),
  });
  const graphiqlFetcher = createGraphiQLFetcher({
    url: graphqlUrl(),
    headers: { ...CLIENT_HEADERS, ...authHeaders(token) },
    wsClient,
    enableIncrementalDelivery: false,
  });
  const fetcher = (params, options) => graphiqlFetcher(withOwnOperationName(params), options);
  return { fetcher, dispose: () => wsClient.dispose() };
}

// GraphiQL works out the selected operation 100 ms after the editor changes, so running a tab
// right after switching to it can send the previous tab's operation name, which the router
// refuses ("Failed to normalize GraphQL operation"). A document with one operation names it.
function withOwnOperationName(params) {
  let operations;
  try {
    operations = parse(params.query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return params; // the router explains the syntax error
  }
  if (operations.length !== 1) return params;
  const operationName = operations[0].name?.value;
  return params.operationName === operationName ? params : { ...params, operationName };
}

async function post(query, variables, token) {
  const response = await fetch(graphqlUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...CLIENT_HEADERS,
      ...authHeaders(token),
    },
    body: JSON.stringify({ query, variables }),
    credentials: 'omit',
  });
  const body = await response.json().catch(() => null);
  if (!body) throw new Error(`The router answered ${response.status} without a GraphQL body`);
  return body;
}

const LOGIN = `mutation GraphiqlLogin($input: LoginInput!) {
  login(input: $input) {
    tokens { accessToken accessTokenExpiresAt userId }
    userErrors { code message field }
  }
}`;

// → { token } or { error } with a message fit for the form.
export async function login(identifier, password) {
  const body = await post(LOGIN, { input: { identifier, password } });
  const payload = body.data?.login;
  if (payload?.tokens?.accessToken) return { token: payload.tokens.accessToken };
  const reason =
    payload?.userErrors?.map((e) => e.message).join('; ') ||
    body.errors?.map((e) => e.message).join('; ') ||
    'Sign-in failed';
  return { error: reason };
}

// Ends the session server-side too, so a copied token stops working. Best effort: the local
// copy is dropped whatever the router says.
export async function logout(token) {
  try {
    await post('mutation GraphiqlLogout { logout { ok } }', {}, token);
  } catch {
    // The router is unreachable; the token expires on its own.
  }
}
