import { type ControlChannel } from '../../shared/ipc.js';
import type { Backend } from '../core/api/backend.js';
/** The port `loupe serve` listens on unless told otherwise. */
export declare const DEFAULT_PORT = 7420;
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
export declare function startWebServer(options: WebServerOptions): Promise<WebServer>;
/** True when `dir` holds a built renderer. */
export declare function rendererBuilt(dir: string): boolean;
