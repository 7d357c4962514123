/**
 * `loupe serve [--port N] [--host H] [--root DIR…] [--socket NAME…] [--token-file FILE] [--allow-control] [--public-origin URL…]`
 * `loupe serve --store URL [--machine NAME] [--port N] [--host H] [--public-origin URL…]`
 *
 * Serves the app's UI to a browser (SPEC §7 "Web view"), for local roots or for every machine
 * that ships to a PostgreSQL store (SPEC §16). Prints the URL, token included, on stdout and runs
 * until interrupted.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { isLoopbackHost, publicOrigin, tokenFromFile } from '../../server/access.js';
import { UserError } from '../errors.js';
import { collectSocket, SOCKET_HELP } from './socket-option.js';
import { checkMachineOption, checkStoreAlone, openStoreBackend, withStore } from './store-option.js';

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
  store?: string;
  machine?: string;
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
    .option('--store <url>', 'serve every machine that ships to this PostgreSQL store (postgres://user:password@host:5432/db), read-only, instead of local roots')
    .option('--machine <name>', 'with --store: only this machine')
    .action(async (options: ServeOptions) => {
      checkMachineOption(options);
      checkStoreAlone({ ...options }, { root: '--root', socket: '--socket', allowControl: '--allow-control' });
      if (options.store !== undefined && options.tokenFile !== undefined) {
        throw new UserError('--token-file cannot be used with --store: the users in the store are the tokens; add one with loupe store user add NAME --role viewer --store URL');
      }
      const { CONTROL_CHANNELS } = await import('../../../shared/ipc.js');
      const { startBackend } = await import('../../core/api/backend.js');
      const { startWebServer, rendererBuilt } = await import('../../server/server.js');
      // A root it cannot use is refused before anything starts (not a green dot over "No tasks yet").
      if (options.store === undefined) (options.root ?? ['.']).forEach(checkRootFolder);
      const host = options.host ?? '127.0.0.1';
      const token = options.tokenFile === undefined ? undefined : tokenFromFile(path.resolve(options.tokenFile));
      const staticDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../renderer');
      const log = (message: string) => process.stderr.write(`loupe serve: ${message}\n`);
      const version = program.version() ?? '0.0.0';
      const backend =
        options.store !== undefined
          ? (await openStoreBackend({ url: options.store, machine: options.machine, version, log })).backend
          : startBackend({ roots: options.root ?? ['.'], sockets: options.socket, version, embedded: true, log });
      // With --store, the store's users log in with their own tokens (and are named in the log).
      const users = options.store === undefined ? undefined : (await import('../../server/storeAuthenticator.js')).storeAuthenticator(options.store);
      if (!rendererBuilt(staticDir)) {
        process.stderr.write(`loupe: warning: the UI is not built (no ${staticDir}/index.html); run \`npm run build\` in the Loupe folder\n`);
      }
      let server;
      try {
        server = await startWebServer({
          backend,
          host,
          port: options.port,
          staticDir,
          token,
          users,
          log: users === undefined ? undefined : log,
          publicOrigins: options.publicOrigin,
          // Read-only unless asked (SPEC §7, RELIABILITY W5): starting agents runs commands. With
          // users, an operator's role is the asking.
          allowedControl: options.allowControl || users !== undefined ? CONTROL_CHANNELS : [],
        });
      } catch (err) {
        await backend.dispose();
        await users?.dispose();
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
      if (options.store !== undefined) await tellHowToLogIn(options.store, server.url);
      const stop = () =>
        void server
          .close()
          .then(() => Promise.all([backend.dispose(), users?.dispose()]))
          .then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** `serve --store` prints no token: says how the store's users log in, and when there are none yet. */
async function tellHowToLogIn(store: string, url: string): Promise<void> {
  const { countActiveUsers } = await import('../../core/store/users.js');
  const users = await withStore(store, countActiveUsers);
  process.stderr.write(
    users === 0
      ? `loupe: warning: the store has no users yet, so nobody can log in: add one with \`loupe store user add NAME --role viewer|operator --store URL\`, then open ${url}?token=TOKEN\n`
      : `loupe serve: log in with a user's token (loupe store user add): open ${url}?token=TOKEN once; scripts send Authorization: Bearer TOKEN\n`,
  );
}
