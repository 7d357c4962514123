/**
 * The Content Security Policy of every page that hosts the renderer, in Electron and in
 * `loupe serve` (SPEC §9). Scripts come only from the app's own files (no inline script, no
 * eval); styles may be inline because xterm.js sets them at runtime; the only connection is
 * back to the page's own origin (the WebSocket of `loupe serve`).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
