/**
 * `loupe serve`: the renderer build over HTTP and the contract over a WebSocket (SPEC §7 "Web
 * view", RELIABILITY W1–W5).
 *
 * - Binds 127.0.0.1 unless told otherwise.
 * - Every request must present the token: the printed URL carries it as `?token=`; the first
 *   visit trades it for an HttpOnly, SameSite=Strict cookie and redirects to a clean URL.
 *   Scripts may send `Authorization: Bearer <token>` instead.
 * - Host must be one of this server's own names (DNS rebinding); Origin, when sent, must be
 *   this server (no other site's page, no `null` origin).
 * - On the WebSocket, only well-formed invokes of channels this client may call run; anything
 *   else is dropped (W5).
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { EXPORT_DOWNLOAD_PATH, MAX_CALLS_IN_FLIGHT, WEBSOCKET_PATH, type ControlChannel, type WireInvoke, type WirePush, type WireResult } from '../../shared/ipc.js';
import type { Backend } from '../core/api/backend.js';
import { CONTENT_SECURITY_POLICY } from '../core/api/csp.js';
import { toWireError } from '../core/api/dispatch.js';
import {
  allowedHosts,
  cookieName,
  hostAllowed,
  newToken,
  originAllowed,
  presentedToken,
  tokenMatches,
} from './access.js';
import { serveExportDownload } from './exportDownload.js';
import { createServeMetrics, METRICS_PATH } from './metrics.js';
import { serveStatic } from './static.js';

/** The port `loupe serve` listens on unless told otherwise. */
export const DEFAULT_PORT = 7420;
/** A client message larger than this is not a contract call (the biggest, `agent:run`, is ~16 KiB). */
const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024;
/**
 * A client whose socket holds this much unsent data is not reading at all (the live feed's ack
 * window keeps a healthy one far below it); it is disconnected rather than buffered without bound.
 */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export interface WebServerOptions {
  backend: Backend;
  /** The interface to bind: 127.0.0.1 unless the user passed --host. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** The control channels web clients may call. */
  allowedControl: readonly ControlChannel[];
  /** Tests pass a known token; otherwise a fresh random one. */
  token?: string;
}

export interface WebServer {
  /** The URL to open, token included. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** Starts the web view. Resolves once it is listening. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const staticDir = path.resolve(options.staticDir);
  let hosts = new Set<string>();
  let port = 0;

  const metrics = createServeMetrics(() => options.backend.snapshot());
  const server = http.createServer((req, res) => handleRequest(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });

  function refuse(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`loupe serve: ${message}\n`);
  }

  /** Checks Host, Origin and token, in that order. `status` 0 means admitted. */
  function admit(req: IncomingMessage): { url: URL; status: number; message: string } {
    const url = new URL(req.url ?? '/', 'http://loupe.invalid');
    if (!hostAllowed(req, hosts)) return { url, status: 403, message: `Host ${req.headers.host ?? '(none)'} is not this server` };
    if (!originAllowed(req, hosts)) return { url, status: 403, message: `requests from origin ${req.headers.origin} are not allowed` };
    if (!tokenMatches(presentedToken(req, url, port), token)) {
      return { url, status: 401, message: 'missing or wrong token: open the URL that `loupe serve` printed (it includes the token)' };
    }
    return { url, status: 0, message: '' };
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const verdict = admit(req);
    if (verdict.status !== 0) return refuse(res, verdict.status, verdict.message);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, `${req.method} is not supported`);
    const { url } = verdict;
    // Before the token-for-cookie trade: a scraper given `?token=` keeps it, and follows no redirect.
    if (url.pathname === METRICS_PATH) return serveMetrics(res);
    if (url.searchParams.has('token')) {
      // Trade the token in the URL for a cookie, and get it out of the address bar and history.
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: sameOriginPath(url.pathname) + url.search,
      });
      res.end();
      return;
    }
    if (url.pathname === EXPORT_DOWNLOAD_PATH) {
      void serveExportDownload(options.backend, url, req, res, SECURITY_HEADERS).catch(() => res.destroy());
      return;
    }
    serveStatic(staticDir, url.pathname, req, res, SECURITY_HEADERS);
  }

  function serveMetrics(res: ServerResponse): void {
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentType });
        res.end(body);
      },
      (err: Error) => refuse(res, 500, `cannot read the metrics: ${toWireError(err).message}`),
    );
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const verdict = admit(req);
    const status = verdict.status || (verdict.url.pathname === WEBSOCKET_PATH ? 0 : 404);
    if (status !== 0) {
      const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws));
  });

  function serveClient(ws: WebSocket): void {
    const send = (message: WireResult | WirePush) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_UNSENT_BYTES) {
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(message));
    };
    const connected = options.backend.connect({
      transport: 'websocket',
      allowedControl: options.allowedControl,
      send: (channel, payload) => send({ kind: 'push', channel, payload }),
      delivered: metrics.delivered,
    });
    metrics.connected();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      metrics.disconnected();
      connected.close();
    };
    let inFlight = 0;
    ws.on('message', (data, isBinary) => {
      const call = isBinary ? null : parseInvoke(data.toString());
      if (call === null) return; // not a contract call: dropped
      // A client that does not read its replies gets no more work done for it (RELIABILITY W7):
      // checked before the call runs, not after its reply is built.
      if (ws.bufferedAmount > MAX_UNSENT_BYTES) {
        ws.terminate();
        return;
      }
      if (inFlight >= MAX_CALLS_IN_FLIGHT) {
        const message = `too many calls in flight on this connection (${MAX_CALLS_IN_FLIGHT}); wait for their replies before sending more`;
        send({ kind: 'result', id: call.id, ok: false, error: { name: 'BusyError', message } });
        return;
      }
      inFlight++;
      connected
        .call(call.channel, call.args)
        .then(
          (result) => send({ kind: 'result', id: call.id, ok: true, result: result ?? null }),
          (err: unknown) => send({ kind: 'result', id: call.id, ok: false, error: toWireError(err) }),
        )
        .finally(() => inFlight--);
    });
    ws.on('close', close);
    ws.on('error', close);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    host,
    port,
    token,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A well-formed invoke message, or null. The channel and args are checked later, by dispatch. */
function parseInvoke(text: string): WireInvoke | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (m.kind !== 'invoke' || !Number.isSafeInteger(m.id) || typeof m.channel !== 'string') return null;
  return { kind: 'invoke', id: m.id as number, channel: m.channel as WireInvoke['channel'], args: m.args };
}

/** True when `dir` holds a built renderer. */
export function rendererBuilt(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'index.html'));
}

/**
 * A redirect target that stays on this server (RELIABILITY W9): `//evil.com/` (or `/\\evil.com`,
 * which browsers read the same way) is a link to another host, so leading slashes collapse to one.
 */
export function sameOriginPath(pathname: string): string {
  return '/' + pathname.replace(/^[/\\]+/, '');
}
