import type { IncomingMessage } from 'node:http';
export declare function newToken(): string;
/**
 * Compares a presented token with the real one in constant time. Both are hashed first, so
 * neither the comparison nor an early length check reveals anything about the real token.
 */
export declare function tokenMatches(presented: string | null | undefined, token: string): boolean;
export declare function isLoopbackHost(host: string): boolean;
/**
 * The Host header values the server accepts: the loopback names, plus, when bound to another
 * interface, that address (or, for 0.0.0.0 / ::, every address of this machine and its hostname).
 * Each with the port. Anything else is a rebinding attempt or a misdirected request.
 */
export declare function allowedHosts(bindHost: string, port: number): Set<string>;
/** True when the request's Host header is one of `hosts`. */
export declare function hostAllowed(req: IncomingMessage, hosts: Set<string>): boolean;
/**
 * True when the request has no Origin (a top-level navigation, or a non-browser client, which
 * must still present the token) or an Origin that is this server itself. `null` and foreign
 * origins are refused.
 */
export declare function originAllowed(req: IncomingMessage, hosts: Set<string>): boolean;
/** The cookie that carries the token after the first visit; named per port because cookies ignore ports. */
export declare function cookieName(port: number): string;
/** The value of one cookie in the request, or null. */
export declare function readCookie(req: IncomingMessage, name: string): string | null;
/** The token a request presents: `?token=`, then `Authorization: Bearer`, then the cookie. */
export declare function presentedToken(req: IncomingMessage, url: URL, port: number): string | null;
