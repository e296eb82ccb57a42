// Tenor back-office GraphiQL: a pinned GraphiQL bundled with everything it needs, served by the
// router at /graphiql. Staff sign in with the `login` mutation (or paste a token); the token goes
// into the Authorization header of every request and the graphql-transport-ws connection_init.

import './csp-nonce.js';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './app.css';

import { createFetcher, login, logout } from './api.js';
import { describeToken, loadToken, saveToken } from './session.js';
import { staffTabs, staffTasksPlugin } from './staff-tasks.jsx';

// GraphiQL keeps tabs, queries, variables and history in this storage. sessionStorage, not the
// default localStorage: variables and results may hold personal data that must not outlive the tab.
const graphiqlStorage = window.sessionStorage;

// A staff member's first visit in this browser tab (no GraphiQL tabs stored yet): the saved
// operations open as tabs and the "Staff tasks" panel starts open to explain them. Later visits
// keep whatever tabs and panel they left.
const firstVisit = !graphiqlStorage.getItem('graphiql:tabState');
const plugins = [staffTasksPlugin];

function SignIn({ onToken }) {
  const [identifier, setIdentifier] = useState('');
  const [password, setPassword] = useState('');
  const [pasted, setPasted] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const result = await login(identifier.trim(), password);
      if (result.token) {
        setPassword('');
        onToken(result.token);
      } else {
        setError(result.error);
      }
    } catch (e) {
      setError(`Sign-in failed: ${e.message}`);
    } finally {
      setBusy(false);
    }
  }

  function usePasted(event) {
    event.preventDefault();
    const token = pasted.trim().replace(/^Bearer\s+/i, '');
    if (!describeToken(token)) {
      setError('That is not a JWT');
      return;
    }
    setPasted('');
    onToken(token);
  }

  return (
    <div className="tenor-signin">
      <form className="tenor-form" onSubmit={submit} aria-label="Sign in">
        <input
          name="identifier"
          autoComplete="username"
          placeholder="Email or phone"
          value={identifier}
          onChange={(e) => setIdentifier(e.target.value)}
          required
        />
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          placeholder="Password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <form className="tenor-form" onSubmit={usePasted} aria-label="Use a token">
        <input
          name="token"
          autoComplete="off"
          placeholder="…or paste an access token"
          value={pasted}
          onChange={(e) => setPasted(e.target.value)}
        />
        <button type="submit">Use token</button>
      </form>
      {error && (
        <span className="tenor-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

function SignedIn({ token, onSignOut }) {
  const info = describeToken(token);
  return (
    <div className="tenor-signedin">
      <span className="tenor-who" data-testid="signed-in">
        Signed in as <code>{info?.subject || 'unknown'}</code>
        {info?.scopes?.length ? <> · scopes <code>{info.scopes.join(' ')}</code></> : null}
        {info?.expiresAt ? <> · token expires {info.expiresAt.toLocaleTimeString()}</> : null}
      </span>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </div>
  );
}

function App() {
  const [token, setToken] = useState(loadToken);

  // One fetcher (and WebSocket client) per token; the old socket closes on change.
  const { fetcher, dispose } = useMemo(() => createFetcher(token), [token]);
  useEffect(() => dispose, [dispose]);

  function signIn(next) {
    saveToken(next);
    setToken(next);
  }

  // An expired token only earns UNAUTHENTICATED errors: drop it so the sign-in form comes back.
  useEffect(() => {
    const expiresAt = token && describeToken(token)?.expiresAt;
    if (!expiresAt) return undefined;
    const timer = setTimeout(() => signIn(''), Math.max(0, expiresAt.getTime() - Date.now()));
    return () => clearTimeout(timer);
  }, [token]);

  // GraphiQL's `visiblePlugin` prop sets the panel but not the pane's width (still collapsed on
  // first render), so press the sidebar button as the staff member would, once GraphiQL has
  // rendered it (its plugin list is filled in by an effect, after this one).
  useEffect(() => {
    if (!firstVisit) return undefined;
    let tries = 0;
    const timer = setInterval(() => {
      const button = document.querySelector(`[aria-label="Show ${staffTasksPlugin.title}"]`);
      tries += 1;
      if (button) button.click();
      if (button || tries > 50) clearInterval(timer);
    }, 50);
    return () => clearInterval(timer);
  }, []);

  async function signOut() {
    const old = token;
    saveToken('');
    setToken('');
    if (old) await logout(old);
  }

  return (
    <div className="tenor-app">
      <header className="tenor-bar">
        <strong className="tenor-title">Tenor back office</strong>
        {token ? <SignedIn token={token} onSignOut={signOut} /> : <SignIn onToken={signIn} />}
      </header>
      <main className="tenor-graphiql">
        <GraphiQL
          fetcher={fetcher}
          storage={graphiqlStorage}
          // Signed out: no introspection (the router allows it to staff only).
          schema={token ? undefined : null}
          defaultTabs={staffTabs}
          // GraphiQL fills the first tab's editors from this prop, not from defaultTabs.
          variables={firstVisit ? staffTabs[0]?.variables : undefined}
          plugins={plugins}
          shouldPersistHeaders={false}
        />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
