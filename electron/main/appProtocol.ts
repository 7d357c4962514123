/**
 * `app://loupe/`: serves the renderer build to the window. A custom secure scheme instead of
 * file:// gives the page a real origin, so IPC handlers can check who is calling, and every
 * response carries the strict CSP.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { protocol } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../core/api/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'loupe';
/** The origin every trusted frame has. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves files of `rendererDir` (and nothing outside it) on `app://loupe/`. */
export function serveRenderer(rendererDir: string): void {
  const base = path.resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = path.resolve(base, '.' + path.posix.normalize(decodeURIComponent(url.pathname)));
    if (url.host !== APP_HOST || !file.startsWith(base + path.sep)) return new Response('not found', { status: 404 });
    try {
      const data = await fs.readFile(file);
      return new Response(data, {
        headers: {
          'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Security-Policy': CONTENT_SECURITY_POLICY,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
