/**
 * `loupe serve`: the renderer build over HTTP and the contract over a WebSocket (SPEC §7 "Web
 * view", RELIABILITY W1–W5).
 *
 * - Binds 127.0.0.1 unless told otherwise.
 * - Every request must present the token: the printed URL carries it as `?token=`; the first
 *   visit trades it for an HttpOnly, SameSite=Strict cookie and redirects to a clean URL.
 *   Scripts may send `Authorization: Bearer <token>` instead.
 * - Or, with `users` (`loupe serve --store`), each user's own token, the same three ways. A
 *   viewer gets no control channel, an operator `allowedControl`; an open WebSocket whose token
 *   was revoked is closed at the next re-check.
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
import type { TokenOwner } from '../core/store/users.js';
import {
  allowedHosts,
  allowedOrigins,
  cookieName,
  hostAllowed,
  newToken,
  originAllowed,
  presentedToken,
  tokenMatches,
  type TokenAuthenticator,
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
/**
 * How often the tokens of open WebSockets are checked again (with `users`): with the
 * authenticator's cache (USER_CACHE_MS), the bound on how long a revoked token's socket stays open.
 */
export const USER_RECHECK_MS = 2000;
/** The WebSocket close code for "your token was revoked" (1008: policy violation). */
const REVOKED_CLOSE_CODE = 1008;

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
  /** The control channels web clients may call (with `users`: operators; viewers none). */
  allowedControl: readonly ControlChannel[];
  /** Tests pass a known token; otherwise a fresh random one. Not with `users`. */
  token?: string;
  /** Named users' tokens instead of the one token (`loupe serve --store`). */
  users?: TokenAuthenticator;
  /**
   * Origins a TLS-terminating proxy in front serves this server at (`https://loupe.example.com`):
   * their Host and Origin are accepted, and the cookie is marked Secure there.
   */
  publicOrigins?: readonly string[];
  /** Connects and refusals, naming users, never tokens. */
  log?: (message: string) => void;
}

export interface WebServer {
  /** The URL to open, token included (none with `users`: each brings their own). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's one token; null with `users`. */
  readonly token: string | null;
  close(): Promise<void>;
}

/** Starts the web view. Resolves once it is listening. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const { users } = options;
  if (users !== undefined && options.token !== undefined) throw new Error('startWebServer: a token or users, not both');
  const token = users === undefined ? (options.token ?? newToken()) : null;
  const log = options.log ?? (() => {});
  const publicOrigins = options.publicOrigins ?? [];
  const secureHosts = new Set(publicOrigins.filter((o) => o.startsWith('https:')).map((o) => new URL(o).host));
  const staticDir = path.resolve(options.staticDir);
  let hosts = new Set<string>();
  let origins = new Set<string>();
  let port = 0;
  /** The open WebSockets of users, with the token each presented, for the revocation re-check. */
  const userSockets = new Map<WebSocket, { token: string; owner: TokenOwner }>();

  const metrics = createServeMetrics(() => options.backend.snapshot());
  const server = http.createServer((req, res) => handleRequest(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });

  function refuse(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`loupe serve: ${message}\n`);
  }

  /**
   * Checks Host, Origin and token, in that order. `status` 0 means admitted, with the token it
   * presented and, with `users`, whose it is.
   */
  async function admit(req: IncomingMessage): Promise<Admission> {
    const url = new URL(req.url ?? '/', 'http://loupe.invalid');
    const refused = (status: number, message: string, logged = message): Admission => {
      log(`refused ${req.method} ${url.pathname} from ${req.socket.remoteAddress}: ${logged}`);
      return { url, status, message, token: '', owner: null };
    };
    if (!hostAllowed(req, hosts)) return refused(403, `Host ${req.headers.host ?? '(none)'} is not this server`);
    if (!originAllowed(req, origins)) return refused(403, `requests from origin ${req.headers.origin} are not allowed`);
    const presented = presentedToken(req, url, port);
    if (users === undefined) {
      if (tokenMatches(presented, token!)) return { url, status: 0, message: '', token: token!, owner: null };
      return refused(401, 'missing or wrong token: open the URL that `loupe serve` printed (it includes the token)');
    }
    if (presented === null) return refused(401, NO_USER_TOKEN, 'no token');
    let owner: TokenOwner | null;
    try {
      owner = await users.authenticate(presented);
    } catch (err) {
      // The details (the store's address) go to the log, not to a client that has not logged in.
      return refused(503, 'cannot check the token now: the store is unreachable; try again shortly', `cannot check the token: ${(err as Error).message}`);
    }
    if (owner === null) return refused(401, `unknown token: ${NO_USER_TOKEN}`, 'a token that is no user\'s');
    if (owner.revoked) return refused(401, 'this token was revoked; ask for a new one (loupe store user add)', `the revoked token of ${who(owner)}`);
    return { url, status: 0, message: '', token: presented, owner };
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    admit(req)
      .then((verdict) => answerRequest(req, res, verdict))
      .catch(() => res.destroy());
  }

  function answerRequest(req: IncomingMessage, res: ServerResponse, verdict: Admission): void {
    if (verdict.status !== 0) return refuse(res, verdict.status, verdict.message);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, `${req.method} is not supported`);
    const { url } = verdict;
    // Before the token-for-cookie trade: a scraper given `?token=` keeps it, and follows no redirect.
    if (url.pathname === METRICS_PATH) return serveMetrics(res);
    if (url.searchParams.has('token')) {
      // Trade the token in the URL for a cookie, and get it out of the address bar and history.
      url.searchParams.delete('token');
      const secure = secureHosts.has(req.headers.host?.toLowerCase() ?? '') ? '; Secure' : '';
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${cookieName(port)}=${verdict.token}; HttpOnly; SameSite=Strict; Path=/${secure}`,
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
    // The socket may break while the token is checked; the check's answer then goes nowhere.
    socket.on('error', () => socket.destroy());
    admit(req)
      .then((verdict) => {
        const status = verdict.status || (verdict.url.pathname === WEBSOCKET_PATH ? 0 : 404);
        if (status !== 0) {
          socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws, verdict, req.socket.remoteAddress));
      })
      .catch(() => socket.destroy());
  });

  function serveClient(ws: WebSocket, admission: Admission, remote: string | undefined): void {
    const { owner } = admission;
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
      allowedControl: owner === null || owner.role === 'operator' ? options.allowedControl : [],
      user: owner === null ? undefined : { name: owner.user, role: owner.role },
      send: (channel, payload) => send({ kind: 'push', channel, payload }),
      delivered: metrics.delivered,
    });
    metrics.connected();
    if (owner !== null) {
      userSockets.set(ws, { token: admission.token, owner });
      log(`${who(owner)} connected from ${remote}`);
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      userSockets.delete(ws);
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
          (err: unknown) => {
            if (owner !== null && (err as Error).name === 'ForbiddenError') log(`refused ${call.channel} to ${who(owner)}`);
            send({ kind: 'result', id: call.id, ok: false, error: toWireError(err) });
          },
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
  hosts = allowedHosts(host, port, publicOrigins);
  origins = allowedOrigins(hosts, publicOrigins);
  const recheck = users === undefined ? null : setInterval(() => void recheckUserSockets(users), USER_RECHECK_MS);
  recheck?.unref();
  let rechecking = false;

  /** Closes the WebSockets whose token was revoked (or deleted) since they opened. */
  async function recheckUserSockets(authenticator: TokenAuthenticator): Promise<void> {
    if (rechecking) return;
    rechecking = true;
    try {
      for (const [ws, { token: presented, owner }] of [...userSockets]) {
        let current: TokenOwner | null;
        try {
          current = await authenticator.authenticate(presented);
        } catch {
          continue; // The store is unreachable: what cannot be checked stays as it was, and is checked next time.
        }
        if (current !== null && !current.revoked) continue;
        log(`closed the WebSocket of ${who(owner)}: its token was revoked`);
        userSockets.delete(ws);
        ws.close(REVOKED_CLOSE_CODE, 'token revoked');
      }
    } finally {
      rechecking = false;
    }
  }
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `http://${urlHost}:${port}/${token === null ? '' : `?token=${token}`}`,
    host,
    port,
    token,
    async close() {
      if (recheck !== null) clearInterval(recheck);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Admission {
  url: URL;
  /** 0: admitted; else the HTTP status of the refusal. */
  status: number;
  message: string;
  /** The token it presented (admitted requests only). */
  token: string;
  /** Whose token it is, with `users`. */
  owner: TokenOwner | null;
}

/** What a refused user is told to do. */
const NO_USER_TOKEN = 'log in with your token from `loupe store user add`: open /?token=TOKEN, or send Authorization: Bearer TOKEN';

/** A user as log lines name them: name, role and token id, never the token. */
function who(owner: TokenOwner): string {
  return `${owner.user} (${owner.role}, token ${owner.tokenId}…)`;
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
