import type { IncomingMessage, ServerResponse } from 'node:http';
/**
 * Answers a GET for `pathname` from `dir`. `/` and paths without an extension get index.html
 * (the app has one page); a missing build gets a 503 saying how to build it.
 */
export declare function serveStatic(dir: string, pathname: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void;
