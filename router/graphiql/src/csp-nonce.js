// Imported first. The router's Content-Security-Policy allows styles from its own files plus one
// per-response nonce (never 'unsafe-inline'). The dialogs' scroll lock (react-remove-scroll via
// get-nonce) injects a <style> element and stamps it with `__webpack_nonce__` when that is set.
const meta = document.querySelector('meta[name="tenor-csp-nonce"]');
const nonce = meta?.getAttribute('content');
if (nonce && nonce !== '__CSP_NONCE__') window.__webpack_nonce__ = nonce;
