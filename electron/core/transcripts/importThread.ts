/**
 * Starts background import (backgroundImport.ts) in a worker thread (importWorker.ts) for a
 * long-running process: `loupe daemon` (into the roots it captures into) and the app and
 * `loupe serve` (into their open roots). The worker has a capped heap, so a huge or hostile
 * session file can at worst end the worker, never the process; it is started again later.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerModule } from '../workers.js';
import type { ImportPass } from './backgroundImport.js';

/** How often the homes are looked at: a new session shows up within this. */
export const IMPORT_INTERVAL_MS = 5000;
/** The worker's heap cap: far above any real session, far below what would hurt capture. */
const WORKER_HEAP_MB = 512;
/** How long after a worker died a new one starts (a file that kills it is not read in a loop). */
const RESTART_DELAY_MS = 60_000;

export interface ImportWorkerData {
  roots: string[];
  sockets: string[];
  intervalMs: number;
}

export type ToImportWorker = { kind: 'stop' };
export type FromImportWorker = { kind: 'log'; message: string } | { kind: 'pass'; pass: ImportPass };

export interface BackgroundImportOptions {
  /** Roots to import into. */
  roots?: string[];
  /** tmux sockets whose captures' roots are imported into (the daemon's). */
  sockets?: string[];
  log: (message: string) => void;
  /** Called after every pass (tests). */
  onPass?: (pass: ImportPass) => void;
}

/** A running background import; `dispose()` stops it. */
export interface BackgroundImportThread {
  dispose(): Promise<void>;
}

export function startBackgroundImport(options: BackgroundImportOptions): BackgroundImportThread {
  const data: ImportWorkerData = {
    roots: (options.roots ?? []).map((r) => path.resolve(r)),
    sockets: options.sockets ?? [],
    intervalMs: Number(process.env.LOUPE_IMPORT_INTERVAL_MS) || IMPORT_INTERVAL_MS,
  };
  let worker: Worker | null = null;
  let restart: NodeJS.Timeout | null = null;
  let stopped = false;
  const start = () => {
    const w = new Worker(workerModule(import.meta.url, 'importWorker.js'), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker = w;
    w.unref(); // background import alone never keeps a process alive
    w.on('message', (message: FromImportWorker) => {
      if (message.kind === 'log') options.log(message.message);
      else options.onPass?.(message.pass);
    });
    w.on('error', (err) => options.log(`background import stopped: ${err.message}`));
    w.on('exit', () => {
      if (worker !== w) return;
      worker = null;
      if (stopped) return;
      options.log(`background import stopped; starting it again in ${RESTART_DELAY_MS / 1000} s`);
      restart = setTimeout(start, RESTART_DELAY_MS);
      restart.unref();
    });
  };
  start();
  return {
    async dispose() {
      stopped = true;
      if (restart !== null) clearTimeout(restart);
      const w = worker;
      worker = null;
      if (w === null) return;
      w.postMessage({ kind: 'stop' } satisfies ToImportWorker);
      await w.terminate();
    },
  };
}
