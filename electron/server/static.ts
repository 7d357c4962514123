/** Serves the built renderer's files, never anything outside its folder. */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/**
 * Answers a GET for `pathname` from `dir`. `/` and paths without an extension get index.html
 * (the app has one page); a missing build gets a 503 saying how to build it.
 */
export function serveStatic(
  dir: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return plain(res, 400, headers, 'bad path');
  }
  if (decoded.includes('\0')) return plain(res, 400, headers, 'bad path');
  const wantsPage = decoded === '/' || path.extname(decoded) === '';
  const file = wantsPage ? path.join(dir, 'index.html') : path.resolve(dir, '.' + path.posix.normalize(decoded));
  if (file !== path.join(dir, 'index.html') && !file.startsWith(dir + path.sep)) return plain(res, 404, headers, 'not found');
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return plain(res, 503, headers, 'the server is out of file descriptors for a moment; reload');
    if (wantsPage) {
      return plain(res, 503, headers, 'the UI is not built (no index.html); run `npm run build` in the Loupe folder, then reload');
    }
    return plain(res, 404, headers, 'not found');
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(data.length),
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

function plain(res: ServerResponse, status: number, headers: Record<string, string>, message: string): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`loupe serve: ${message}\n`);
}
