/**
 * `loupe daemon [--socket NAME…] [--exit-when-idle] [--ship URL [--root DIR]… [--machine NAME] [--accept-control]]`
 *
 * Runs the capture host for each socket in the foreground: converts pane spools into JSONL and
 * supervises captures (dead pipes, ended panes, resizes, a dead tmux server). `loupe run` and
 * `loupe attach` start one in the background (with --exit-when-idle) when none runs. Beside
 * capture, in a worker thread, it imports the agents' sessions into the roots it captures into
 * (core/transcripts/backgroundImport.ts). With `--ship`, it also keeps a `loupe ship` process
 * running for the roots (SPEC §16).
 */
import path from 'node:path';
import { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { collect } from '../repeatable.js';
import { UserError } from '../errors.js';
import { checkShipOptions } from './ship.js';
import { collectSocket, SOCKET_HELP } from './socket-option.js';

interface DaemonCommandOptions {
  socket?: string[];
  exitWhenIdle?: boolean;
  ship?: string;
  root?: string[];
  machine?: string;
  acceptControl?: boolean;
}

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the capture host and supervisor, and import agent sessions, in the foreground (started automatically by run/attach)')
    .option('--socket <name...>', `${SOCKET_HELP}; repeat for several servers`, collectSocket)
    .option('--exit-when-idle', 'exit once there is nothing left to capture')
    .option('--ship <url>', 'also ship the roots into this PostgreSQL store while the daemon runs (see loupe ship)')
    .option('--root <dir>', 'with --ship: a folder holding .agent-workspace/ (repeatable; default: the current folder)', collect)
    .option('--machine <name>', 'with --ship: the name this machine has in the store (default: the host name)')
    .option('--accept-control', "with --ship: take the store's control calls for this machine, on the daemon's sockets (see loupe ship)")
    .action(async (options: DaemonCommandOptions) => {
      const { CaptureHost } = await import('../../core/capture/capture-host.js');
      const { DEFAULT_SOCKET_NAME } = await import('../../core/capture/tmux.js');
      const { startBackgroundImport } = await import('../../core/transcripts/importThread.js');
      const log = (message: string) => process.stderr.write(`${new Date().toISOString()} loupe daemon: ${message}\n`);
      if (options.acceptControl && options.ship === undefined) throw new UserError('--accept-control takes control calls from the store the daemon ships to: give it with --ship URL');
      const shipper = options.ship === undefined ? null : await startShipProcess(options.ship, options, log);
      const sockets = options.socket ?? [DEFAULT_SOCKET_NAME];
      const hosts = sockets.map((socketName) => {
        const host = new CaptureHost({
          socketName,
          log,
          onIdle: options.exitWhenIdle ? () => void stop(host, `nothing left to capture on socket ${socketName}`) : undefined,
        });
        return host;
      });
      const running = new Set<InstanceType<typeof CaptureHost>>();
      let keepAlive: NodeJS.Timeout | null = null;
      let imports: ReturnType<typeof startBackgroundImport> | null = null;
      const stop = async (host: InstanceType<typeof CaptureHost>, why: string) => {
        if (!running.delete(host)) return;
        log(`${why}; stopping`);
        await host.dispose();
        if (running.size > 0) return;
        if (keepAlive !== null) clearInterval(keepAlive);
        await Promise.all([imports?.dispose(), shipper?.dispose()]);
      };
      for (const host of hosts) {
        if (await host.start()) running.add(host);
        else log(`a capture host already runs for socket ${host.tmux.socketName}; leaving it to that one`);
      }
      if (running.size === 0 && shipper === null) return;
      // The host's timers keep the process alive; this makes it explicit and survives quiet periods.
      keepAlive = setInterval(() => {}, 1 << 30);
      const shutdown = (signal: string) => {
        if (running.size === 0) {
          log(`received ${signal}; stopping`);
          void shipper?.dispose().then(() => clearInterval(keepAlive!));
        }
        void Promise.all([...running].map((h) => stop(h, `received ${signal}`)));
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      if (running.size === 0) return; // shipping only: another daemon captures (and imports) here
      log(`capturing on socket(s) ${[...running].map((h) => h.tmux.socketName).join(', ')} (pid ${process.pid})`);
      try {
        imports = startBackgroundImport({ sockets: [...running].map((h) => h.tmux.socketName), log });
      } catch (err) {
        log(`cannot start the background import: ${(err as Error).message}`);
      }
    });
}

/** Checks `--ship`'s options like `loupe ship` does, and starts the shipper process. */
async function startShipProcess(url: string, options: DaemonCommandOptions, log: (message: string) => void) {
  const shown = await checkShipOptions(url, options.machine);
  const roots = (options.root ?? ['.']).map((r) => path.resolve(r));
  roots.forEach(checkRootFolder);
  const { ShipProcess } = await import('../../core/ship/shipProcess.js');
  const acceptControl = options.acceptControl ? { sockets: options.socket ?? [] } : undefined;
  const shipper = new ShipProcess({ url, roots, machine: options.machine, acceptControl, log });
  shipper.start();
  log(`shipping ${roots.join(', ')} to ${shown}`);
  return shipper;
}
