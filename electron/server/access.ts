/**
 * Who may talk to `loupe serve` (RELIABILITY W1–W4): the token, the Host header (against DNS
 * rebinding) and the Origin header (against other sites' pages).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import type { TokenOwner } from '../core/store/users.js';

/** 256 random bits: far above the 128 the web view needs, and still a short URL. */
const TOKEN_BYTES = 32;

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * Checks the tokens of named users (`loupe serve --store`) instead of the server's one token.
 * Resolves with the token's owner (refused when `revoked`), or null when it is nobody's; rejects
 * when it cannot tell (the store is unreachable).
 */
export interface TokenAuthenticator {
  authenticate(token: string): Promise<TokenOwner | null>;
}

/** A token from a file must carry at least 128 bits (RELIABILITY W2): 22 base64url characters. */
const MIN_TOKEN_CHARS = 22;

/** A token file that cannot be used; the message says why and what to do. */
export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/**
 * The token kept in `file` (for a scraper or a bookmark that must outlive restarts), written there
 * first, readable by this user only, when the file does not exist yet.
 */
export function tokenFromFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenFileError(`cannot read the token file ${file}: ${(err as Error).message}`);
    const token = newToken();
    try {
      fs.writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new TokenFileError(`cannot create the token file ${file}: ${(e as Error).message}`);
    }
    return token;
  }
  const token = text.trim();
  if (!new RegExp(`^[A-Za-z0-9._~+/=-]{${MIN_TOKEN_CHARS},}$`).test(token)) {
    throw new TokenFileError(
      `the token file ${file} must hold one token of at least ${MIN_TOKEN_CHARS} letters, digits or -._~+/= (128 bits); delete it and Loupe writes a new one`,
    );
  }
  return token;
}

/**
 * Compares a presented token with the real one in constant time. Both are hashed first, so
 * neither the comparison nor an early length check reveals anything about the real token.
 */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Names this machine answers to on loopback. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/**
 * The Host header values the server accepts: the loopback names, plus, when bound to another
 * interface, that address (or, for 0.0.0.0 / ::, every address of this machine and its hostname).
 * Each with the port. Plus the name of each public origin (a TLS proxy in front, as the browser
 * addresses it). Anything else is a rebinding attempt or a misdirected request.
 */
export function allowedHosts(bindHost: string, port: number, publicOrigins: readonly string[] = []): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  if (!isLoopbackHost(bindHost)) {
    if (bindHost === '0.0.0.0' || bindHost === '::') {
      names.add(os.hostname().toLowerCase());
      for (const list of Object.values(os.networkInterfaces())) {
        for (const a of list ?? []) names.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
      }
    } else {
      names.add(bindHost.includes(':') ? `[${bindHost}]` : bindHost.toLowerCase());
    }
  }
  const hosts = new Set([...names].map((n) => `${n}:${port}`));
  for (const origin of publicOrigins) hosts.add(new URL(origin).host);
  return hosts;
}

/** The Origin header values the server accepts: itself over plain HTTP by any of its `hosts`, and each public origin. */
export function allowedOrigins(hosts: Set<string>, publicOrigins: readonly string[] = []): Set<string> {
  return new Set([...[...hosts].map((h) => `http://${h}`), ...publicOrigins]);
}

/**
 * `value` as a browser sends it in Origin (`https://loupe.example.com`: scheme, host, a port only
 * when not the default), or null when it is not an http(s) origin without path, query or user.
 */
export function publicOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  return (url.protocol === 'https:' || url.protocol === 'http:') && bare ? url.origin : null;
}

/** True when the request's Host header is one of `hosts`. */
export function hostAllowed(req: IncomingMessage, hosts: Set<string>): boolean {
  const host = req.headers.host?.toLowerCase();
  return host !== undefined && hosts.has(host);
}

/**
 * True when the request has no Origin (a top-level navigation, or a non-browser client, which
 * must still present the token) or one of `origins` exactly. `null` and foreign origins are refused.
 */
export function originAllowed(req: IncomingMessage, origins: Set<string>): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origins.has(origin);
}

/** The cookie that carries the token after the first visit; named per port because cookies ignore ports. */
export function cookieName(port: number): string {
  return `loupe_token_${port}`;
}

/** The value of one cookie in the request, or null. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The token a request presents: `?token=`, then `Authorization: Bearer`, then the cookie. */
export function presentedToken(req: IncomingMessage, url: URL, port: number): string | null {
  const query = url.searchParams.get('token');
  if (query) return query;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  return readCookie(req, cookieName(port));
}
