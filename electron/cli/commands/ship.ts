/**
 * `loupe ship --to postgres://… | --otlp http://collector:4318 [--root DIR]… [--machine NAME] [--once]
 *   [--accept-control [--socket NAME]…]`:
 * sends every log under the roots into the PostgreSQL store, or as OpenTelemetry log records to an
 * OTLP/HTTP collector, and keeps following them (SPEC §16). The local JSONL is the outbox:
 * shipping resumes from what the store acknowledged (for OTLP, from cursor files under the roots),
 * so it can be stopped, killed or cut off from its destination at any point and started again.
 * With `--accept-control`, it also takes the control calls the store's operators make for this
 * machine (store/control.ts).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { collect } from '../repeatable.js';
import { checkRoot } from './search.js';
import { collectSocket, SOCKET_HELP } from './socket-option.js';

interface ShipCommandOptions {
  to?: string;
  otlp?: string;
  root?: string[];
  machine?: string;
  once?: boolean;
  retries: string;
  acceptControl?: boolean;
  socket?: string[];
}


/** Machine names are shown and matched like agent ids. */
const MACHINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ShipperOptions {
  /** The PostgreSQL URL, or with `otlp` the collector's OTLP/HTTP endpoint. */
  url: string;
  otlp?: boolean;
  roots: string[];
  machine?: string;
  /** Write attempts per batch before `--once` gives up. */
  attempts?: number;
  /** Take the store's control calls for this machine, on these tmux sockets (following only). */
  acceptControl?: { sockets: string[]; version: string };
  /** Where retries and progress are reported. */
  log: (message: string) => void;
}

/** Checks a ship target and machine name the way every command that ships does; usage errors exit 2. */
export async function checkShipOptions(url: string, machine: string | undefined): Promise<string> {
  const { checkStoreUrl } = await import('../../core/store/connection.js');
  const shown = checkStoreUrl(url);
  checkMachineName(machine);
  return shown;
}

/** Checks an OTLP endpoint and machine name; returns the endpoint as it may be shown. Usage errors exit 2. */
async function checkOtlpOptions(endpoint: string, machine: string | undefined): Promise<string> {
  const { otlpLogsUrl, shownEndpoint } = await import('../../core/ship/otlp.js');
  let shown: string;
  try {
    shown = shownEndpoint(otlpLogsUrl(endpoint));
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  checkMachineName(machine);
  return shown;
}

function checkMachineName(machine: string | undefined): void {
  if (machine !== undefined && !MACHINE_NAME.test(machine)) {
    throw new UserError(`--machine ${JSON.stringify(machine)} is not a valid name: use letters, digits, '.', '_' and '-' (up to 128)`);
  }
}

/**
 * Ships the roots into the store: once (`signal` absent), or until `signal` aborts. A failure
 * retrying cannot fix, or one that outlasts `--once`'s retries, is a `UserError` with status 1.
 */
export async function runShipper(options: ShipperOptions, signal?: AbortSignal): Promise<{ entries: number; lines: number; machine: string }> {
  const [{ LocalLogFollower }, { PostgresSink, defaultMachineName }, { redactUrl }, { OtlpSink, otlpLogsUrl, shownEndpoint }] = await Promise.all([
    import('../../core/ship/follow.js'),
    import('../../core/store/shipSink.js'),
    import('../../core/store/connection.js'),
    import('../../core/ship/otlp.js'),
  ]);
  const machine = options.machine ?? defaultMachineName();
  const sink = options.otlp ? new OtlpSink({ endpoint: options.url, machine }) : new PostgresSink(options.url, machine);
  const shown = options.otlp ? shownEndpoint(otlpLogsUrl(options.url)) : redactUrl(options.url);
  const follower = new LocalLogFollower(options.roots, sink, {
    onceAttempts: options.attempts,
    onRetry: (err, delayMs) => options.log(`${err.message}; retrying in ${(delayMs / 1000).toFixed(1)} s`),
  });
  const control = options.acceptControl;
  try {
    if (signal === undefined) await follower.runOnce();
    else if (control === undefined) await follower.follow(signal);
    else {
      const { acceptControl } = await import('../../core/store/control.js');
      await Promise.all([
        follower.follow(signal),
        acceptControl({ url: options.url, machine, roots: options.roots, sockets: control.sockets, version: control.version, log: options.log, signal }),
      ]);
    }
    return { ...follower.shipped, machine };
  } catch (err) {
    if ((err as Error).name === 'SinkError') throw new UserError(`shipping to ${shown} failed: ${(err as Error).message}`, 1);
    throw err;
  } finally {
    follower.dispose();
    await sink.dispose();
  }
}

export function registerShip(program: Command): void {
  program
    .command('ship')
    .description('send every log under the roots into a PostgreSQL store or an OTLP collector, and keep following them')
    .option('--to <url>', 'the store: postgres://user:password@host:5432/database (missing parts come from the PG* variables)')
    .option('--otlp <url>', "an OpenTelemetry collector's OTLP/HTTP endpoint, e.g. http://collector:4318 (entries go to /v1/logs as log records)")
    .option('--root <dir>', 'a folder holding .agent-workspace/ (repeatable; default: the current folder)', collect)
    .option('--machine <name>', 'the name this machine has in the store (default: the host name)')
    .option('--once', 'ship what the logs hold now, then exit')
    .option('--retries <n>', 'with --once: tries per batch while the store is unreachable, with backoff from 0.25 s to 10 s', '8')
    .option('--accept-control', "take the store's control calls for this machine: its operators answer waiting agents, start agents and attach panes here")
    .option('--socket <name>', `with --accept-control: ${SOCKET_HELP}; repeat for several servers`, collectSocket)
    .action(async (options: ShipCommandOptions) => {
      if ((options.to === undefined) === (options.otlp === undefined)) {
        throw new UserError('give one destination: --to postgres://… (a Loupe store) or --otlp http://collector:4318 (an OpenTelemetry collector)');
      }
      const otlp = options.otlp !== undefined;
      const url = options.to ?? options.otlp!;
      const shown = otlp ? await checkOtlpOptions(url, options.machine) : await checkShipOptions(url, options.machine);
      const roots = (options.root ?? ['.']).map((r) => path.resolve(r));
      const attempts = Number(options.retries);
      if (!Number.isInteger(attempts) || attempts < 1) throw new UserError(`--retries ${JSON.stringify(options.retries)} is not a whole number of at least 1`);
      roots.forEach(checkRoot);
      if (options.acceptControl && (otlp || options.once)) {
        throw new UserError(`--accept-control takes calls from a PostgreSQL store while shipping goes on; it cannot be used with ${otlp ? '--otlp' : '--once'}`);
      }
      if (options.socket !== undefined && !options.acceptControl) throw new UserError('--socket says where control calls act: give it with --accept-control');
      const log = (message: string) => process.stderr.write(`${new Date().toISOString()} loupe ship: ${message}\n`);
      if (options.once) {
        const done = await runShipper({ url, otlp, roots, machine: options.machine, attempts, log });
        const what = otlp ? `${done.entries} entries as log records` : `${done.entries} entries and ${done.lines} screen lines`;
        process.stdout.write(`shipped ${what} to ${shown} as machine ${done.machine}\n`);
        return;
      }
      const stop = new AbortController();
      process.once('SIGTERM', () => stop.abort());
      process.once('SIGINT', () => stop.abort());
      log(`shipping ${roots.join(', ')} to ${shown} (pid ${process.pid}); Ctrl-C stops`);
      const acceptControl = options.acceptControl ? { sockets: options.socket ?? [], version: program.version() ?? '0.0.0' } : undefined;
      if (acceptControl !== undefined) log("taking the store's control calls for this machine (--accept-control)");
      const done = await runShipper({ url, otlp, roots, machine: options.machine, log, acceptControl }, stop.signal);
      log(`stopped after ${done.entries} entries and ${done.lines} screen lines`);
    });
}
