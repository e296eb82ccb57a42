// Drives the router's GraphiQL in headless Debian Chromium (playwright-core, no downloaded
// browser) the way a staff member would: open the page, sign in, run the default cross-subgraph
// query, read the result, sign out. The browser can reach only loopback, and every request it
// makes is recorded so the caller can check that all of them went to the router.
//
//   GRAPHIQL_URL=http://127.0.0.1:4000/graphiql STAFF_IDENTIFIER=… STAFF_PASSWORD=… \
//     node test/browser.mjs
//
// Optional: STAFF_TOKEN (pasted first, then signed out), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT (a .png path), TIMEOUT_MS.
// Prints one JSON line: { ok, error?, requests, websockets, cspViolations, consoleErrors,
// result, storage }; exits 1 when a step failed. Assertions about the data are the caller's.

import { chromium } from 'playwright-core';

const url = required('GRAPHIQL_URL');
const identifier = required('STAFF_IDENTIFIER');
const password = required('STAFF_PASSWORD');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const timeout = Number(process.env.TIMEOUT_MS || 30000);

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const report = {
  ok: false,
  requests: [],
  websockets: [],
  cspViolations: [],
  consoleErrors: [],
  result: null,
  storage: null,
};

const browser = await chromium.launch({
  executablePath,
  headless: true,
  timeout,
  args: [
    // Loopback only: names resolve to nothing but 127.0.0.1, and everything that is not loopback
    // goes to a proxy that does not exist (IP literals bypass the resolver rules).
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--proxy-server=http://127.0.0.1:9',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-domain-reliability',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    // Root in a container has no user namespaces for the sandbox.
    '--no-sandbox',
  ],
});

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(timeout);
  context.on('request', (request) => report.requests.push(request.url()));
  const page = await context.newPage();
  page.on('websocket', (ws) => report.websockets.push(ws.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.consoleErrors.push(`pageerror: ${error.message}`));
  // Injected through DevTools, so the page's own CSP does not apply to this listener.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || response.status() !== 200) throw new Error(`GET ${url} → ${response?.status()}`);

  // A pasted token (STAFF_TOKEN, optional) signs in too; signing out forgets it again.
  if (process.env.STAFF_TOKEN) {
    await page.getByPlaceholder('…or paste an access token').fill(`Bearer ${process.env.STAFF_TOKEN}`);
    await page.getByRole('button', { name: 'Use token' }).click();
    report.pastedTokenLabel = await page.getByTestId('signed-in').innerText();
    await page.getByRole('button', { name: 'Sign out' }).click();
  }

  await page.getByPlaceholder('Email or phone').fill(identifier);
  await page.getByPlaceholder('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in').waitFor();

  // The default query (users from the user subgraph, mySessions from auth) is in the editor.
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  await page.locator('.graphiql-execute-button').click();
  const text = await waitForResult(page);
  report.result = JSON.parse(text);

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });

  // A dialog (Radix: scroll lock, focus trap) must work under the CSP too.
  await page.getByRole('button', { name: 'Open settings dialog' }).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  const token = await page.evaluate(() => sessionStorage.getItem('tenor.graphiql.accessToken'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  report.storage = await page.evaluate((token) => {
    const values = (storage) => Object.keys(storage).map((k) => storage.getItem(k) || '');
    return {
      hadSessionToken: Boolean(token),
      sessionTokenAfterSignOut: sessionStorage.getItem('tenor.graphiql.accessToken'),
      localStorageKeys: Object.keys(localStorage),
      tokenInLocalStorage: Boolean(token) && values(localStorage).some((v) => v.includes(token)),
    };
  }, token);
  report.cspViolations = await page.evaluate(() => window.__cspViolations);
  report.ok = true;
} catch (error) {
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);

// The response pane is a read-only CodeMirror; wait until it holds a complete JSON document.
async function waitForResult(page) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await page.evaluate(() => {
      const cm = document.querySelector('.graphiql-response .CodeMirror');
      return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
    });
    if (text) {
      try {
        JSON.parse(text);
        return text;
      } catch {
        // still streaming in
      }
    }
    if (Date.now() > deadline) throw new Error(`no result in the response pane: ${text}`);
    await page.waitForTimeout(100);
  }
}
