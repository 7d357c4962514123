/**
 * `loupe daemon --ship URL`: keeps a `loupe ship` process running beside the capture host. It is
 * a child process, not a loop in the daemon, because shipping indexes the logs (screen lines),
 * which takes whole seconds of CPU after a backlog; capture must never wait for that (SPEC §4).
 * A shipper that exits is started again after a growing pause; it resumes from the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pause before restarting a shipper that exited: doubles from the first to the last. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 60_000;
/** A shipper that ran this long before exiting starts again after the first pause. */
const HEALTHY_RUN_MS = 60_000;

export interface ShipProcessOptions {
  url: string;
  roots: string[];
  machine?: string;
  /** Also take the store's control calls for this machine, on these tmux sockets (`--accept-control`). */
  acceptControl?: { sockets: string[] };
  /** Where the shipper's own messages and restarts are reported. */
  log: (message: string) => void;
}

export class ShipProcess {
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private delay = RESTART_FIRST_MS;
  private stopped = false;

  constructor(private readonly options: ShipProcessOptions) {}

  start(): void {
    if (this.stopped || this.child !== null) return;
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bin/loupe.js');
    const args = [bin, 'ship', '--to', this.options.url, ...this.options.roots.flatMap((r) => ['--root', r])];
    if (this.options.machine !== undefined) args.push('--machine', this.options.machine);
    const control = this.options.acceptControl;
    if (control !== undefined) args.push('--accept-control', ...control.sockets.flatMap((s) => ['--socket', s]));
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    let pending = '';
    child.stderr!.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line !== '') this.options.log(line);
    });
    child.once('exit', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      if (Date.now() - started >= HEALTHY_RUN_MS) this.delay = RESTART_FIRST_MS;
      this.options.log(`the shipper exited (${signal ?? `status ${code}`}); starting it again in ${this.delay / 1000} s`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        this.start();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, RESTART_MAX_MS);
    });
  }

  /** Stops the shipper (SIGTERM: it ends its batch's transaction or rolls it back) and waits for it. */
  async dispose(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
