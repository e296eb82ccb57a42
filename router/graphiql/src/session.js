// The staff member's access token: in memory and in sessionStorage (gone when the tab closes),
// never in localStorage, where it would outlive the tab and be readable by any later page script.

const KEY = 'tenor.graphiql.accessToken';

export function loadToken() {
  try {
    return window.sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

export function saveToken(token) {
  try {
    if (token) window.sessionStorage.setItem(KEY, token);
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the token stays in memory only.
  }
}

// The claims a staff member may want to see (who, which scopes, until when). Not verified here:
// the router and every subgraph verify the signature; this only labels the UI.
export function describeToken(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload));
    const scopes = Array.isArray(claims.scopes)
      ? claims.scopes
      : typeof claims.scope === 'string'
        ? claims.scope.split(' ')
        : [];
    return {
      subject: String(claims.sub ?? ''),
      scopes,
      expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null,
    };
  } catch {
    return null;
  }
}
