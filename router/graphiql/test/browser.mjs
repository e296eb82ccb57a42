// Drives the router's GraphiQL in headless Debian Chromium (playwright-core, no downloaded
// browser) the way a staff member would: open the page, sign in, run the first saved tab (a
// cross-subgraph query), open a saved staff operation's tab and run it, reopen a closed one from
// the "Staff tasks" panel, reload (the tabs must stay the staff member's), sign out. The browser
// can reach only loopback, and every request it makes is recorded so the caller can check that
// all of them went to the router.
//
//   GRAPHIQL_URL=http://127.0.0.1:4000/graphiql STAFF_IDENTIFIER=… STAFF_PASSWORD=… \
//     node test/browser.mjs
//
// Optional: STAFF_TOKEN (pasted first, then signed out), SAVED_OPERATION (the saved tab to run,
// default KycReviewQueue), REOPEN_OPERATION (the tab to close and reopen from the panel, default
// DecideLoan), CHROMIUM (default /usr/bin/chromium), SCREENSHOT (a .png path), TIMEOUT_MS.
// Prints one JSON line: { ok, error?, requests, websockets, cspViolations, consoleErrors,
// result, tabs, tasksPanelOpen, saved, reopened, tabsAfterReload, storage }; exits 1 when a step
// failed. Assertions about the data are the caller's.

import { chromium } from 'playwright-core';

const url = required('GRAPHIQL_URL');
const identifier = required('STAFF_IDENTIFIER');
const password = required('STAFF_PASSWORD');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const timeout = Number(process.env.TIMEOUT_MS || 30000);
const savedOperation = process.env.SAVED_OPERATION || 'KycReviewQueue';
const reopenOperation = process.env.REOPEN_OPERATION || 'DecideLoan';

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
  tabs: [],
  tasksPanelOpen: false,
  saved: null,
  reopened: null,
  tabsAfterReload: [],
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

  // First visit: the saved operations are the tabs, the first one (users from the user
  // subgraph, mySessions from auth) active, and the "Staff tasks" panel open.
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  report.tabs = await tabTitles(page);
  await page.locator('.tenor-task').first().waitFor();
  report.tasksPanelOpen = await page.locator('.tenor-task').first().isVisible();
  report.result = await run(page);

  // A saved staff operation: its tab holds the saved text and example variables; run it.
  await tabButton(page, savedOperation).click();
  await activeTab(page, savedOperation);
  const savedEditors = await editors(page);
  report.saved = { ...savedEditors, result: await run(page) };

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });

  // Closed by mistake: the panel opens it again, as a new active tab with the saved text.
  const reopenTab = page.locator('.graphiql-tab', { has: tabButton(page, reopenOperation) });
  await tabButton(page, reopenOperation).click(); // GraphiQL shows the close button on the active tab
  await activeTab(page, reopenOperation);
  await reopenTab.locator('.graphiql-tab-close').click();
  await reopenTab.waitFor({ state: 'detached' });
  const withoutIt = await tabTitles(page);
  await page.locator(`.tenor-task[data-operation="${reopenOperation}"]`).click();
  await activeTab(page, reopenOperation);
  report.reopened = { withoutIt, tabs: await tabTitles(page), ...(await editors(page)) };

  // A reload keeps the staff member's tabs (sessionStorage) instead of the saved defaults.
  report.cspViolations.push(...(await page.evaluate(() => window.__cspViolations)));
  await page.waitForTimeout(1000); // GraphiQL stores tab changes after 500 ms
  await page.reload({ waitUntil: 'load' });
  await page.getByTestId('signed-in').waitFor();
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  report.tabsAfterReload = await tabTitles(page);

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
  report.cspViolations.push(...(await page.evaluate(() => window.__cspViolations)));
  report.ok = true;
} catch (error) {
  report.error = String(error?.stack || error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);

async function tabTitles(page) {
  return page.locator('.graphiql-tab-button').allInnerTexts();
}

// The button of the tab titled `title` (the tab itself also holds the close icon's SVG title).
function tabButton(page, title) {
  return page.locator('.graphiql-tab-button', { hasText: new RegExp(`^${title}$`) });
}

// Waits until the active tab is `title` and its query has reached the editor.
async function activeTab(page, title) {
  await page.locator('.graphiql-tab[aria-selected="true"]', { has: tabButton(page, title) }).waitFor();
  await page.waitForFunction(
    (name) =>
      new RegExp(`^(query|mutation|subscription) ${name}\\b`, 'm').test(
        document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror?.getValue() ?? '',
      ),
    title,
  );
}

// What the query and variables editors of the active tab hold.
async function editors(page) {
  return page.evaluate(() => {
    const value = (selector) => document.querySelector(selector)?.CodeMirror?.getValue() ?? null;
    return {
      query: value('.graphiql-query-editor .CodeMirror'),
      variables: value('.graphiql-editor-tool .CodeMirror'),
    };
  });
}

// Presses the play button and returns the JSON in the response pane.
async function run(page) {
  await page.locator('.graphiql-execute-button').click();
  return JSON.parse(await waitForResult(page));
}

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
