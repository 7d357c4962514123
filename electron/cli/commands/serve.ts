/**
 * `loupe serve [--port N] [--host H] [--root DIR…] [--socket NAME…] [--token-file FILE] [--allow-control] [--public-origin URL…]`
 *
 * Serves the app's UI to a browser (SPEC §7 "Web view"). Prints the URL, token included, on
 * stdout and runs until interrupted.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { isLoopbackHost, publicOrigin, tokenFromFile } from '../../server/access.js';
import { UserError } from '../errors.js';
import { collectSocket, SOCKET_HELP } from './socket-option.js';

/** The port unless --port says otherwise (kept in step with DEFAULT_PORT in electron/server). */
const DEFAULT_PORT = 7420;

interface ServeOptions {
  port: number;
  host?: string;
  root?: string[];
  socket?: string[];
  allowControl?: boolean;
  tokenFile?: string;
  publicOrigin?: string[];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UserError(`invalid --port ${JSON.stringify(value)}: use a number from 0 to 65535 (0 picks a free port)`);
  return n;
}

function parseHost(value: string): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(value) && !/^\[[0-9A-Fa-f:]+\]$/.test(value)) {
    throw new UserError(`invalid --host ${JSON.stringify(value)}: give an interface address such as 127.0.0.1, 0.0.0.0 or ::1`);
  }
  return value.replace(/^\[(.*)\]$/, '$1');
}

function parsePublicOrigin(value: string, previous: string[] = []): string[] {
  const origin = publicOrigin(value);
  if (origin === null) {
    throw new UserError(`invalid --public-origin ${JSON.stringify(value)}: give the address the browser opens, such as https://loupe.example.com (scheme, host and port only)`);
  }
  return [...previous, origin];
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the Loupe UI to a browser (127.0.0.1 only unless --host; a token is required)')
    .option('--port <n>', `port to listen on (0 picks a free one)`, parsePort, DEFAULT_PORT)
    .option('--host <address>', 'interface to bind (default 127.0.0.1); any other exposes the UI to that network', parseHost)
    .option('--root <dir...>', 'folders holding .agent-workspace/ (default: the current folder)')
    .option('--socket <name...>', `${SOCKET_HELP}; repeat for several servers`, collectSocket)
    .option('--token-file <file>', 'keep the token in this file (written with a new random one if missing), so it outlives restarts (for /metrics scrapers)')
    .option('--public-origin <url>', 'the https://name a TLS-terminating reverse proxy serves Loupe at: its Host and Origin are accepted (repeatable)', parsePublicOrigin)
    .option('--allow-control', 'let the browser attach and detach captures, start agents and answer waiting ones (read-only without it)')
    .action(async (options: ServeOptions) => {
      const { CONTROL_CHANNELS } = await import('../../../shared/ipc.js');
      const { startBackend } = await import('../../core/api/backend.js');
      const { startWebServer, rendererBuilt } = await import('../../server/server.js');
      // A root it cannot use is refused before anything starts (not a green dot over "No tasks yet").
      (options.root ?? ['.']).forEach(checkRootFolder);
      const host = options.host ?? '127.0.0.1';
      const token = options.tokenFile === undefined ? undefined : tokenFromFile(path.resolve(options.tokenFile));
      const staticDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../renderer');
      if (!rendererBuilt(staticDir)) {
        process.stderr.write(`loupe: warning: the UI is not built (no ${staticDir}/index.html); run \`npm run build\` in the Loupe folder\n`);
      }
      const log = (message: string) => process.stderr.write(`loupe serve: ${message}\n`);
      const backend = startBackend({
        roots: options.root ?? ['.'],
        sockets: options.socket,
        version: program.version() ?? '0.0.0',
        embedded: true,
        log,
      });
      let server;
      try {
        server = await startWebServer({
          backend,
          host,
          port: options.port,
          staticDir,
          token,
          publicOrigins: options.publicOrigin,
          // Read-only unless asked (SPEC §7, RELIABILITY W5): starting agents runs commands.
          allowedControl: options.allowControl ? CONTROL_CHANNELS : [],
        });
      } catch (err) {
        await backend.dispose();
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new UserError(`port ${options.port} on ${host} is in use; pass --port with another port (or 0 for any free one)`);
        if (e.code === 'EADDRNOTAVAIL') throw new UserError(`${host} is not an address of this machine; pass --host with one of its interfaces`);
        if (e.code === 'EACCES') throw new UserError(`port ${options.port} on ${host} needs privileges this user does not have; pass --port 1024 or above (or 0 for any free one)`);
        throw err;
      }
      if (!isLoopbackHost(host)) {
        process.stderr.write(
          `loupe: warning: serving on ${host}, not just this machine: anyone who can reach it and has the token can read your agents' output\n` +
            `loupe: warning: this is plain HTTP: tokens and output travel in clear text unless a TLS-terminating reverse proxy is in front (serve on 127.0.0.1 behind it; see "Team access" in the README)\n`,
        );
      }
      process.stdout.write(`${server.url}\n`);
      const stop = () => void server.close().then(() => backend.dispose()).then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
