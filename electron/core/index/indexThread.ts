/**
 * The serving thread's side of the index worker (`indexWorker.ts`): starts it, asks it to index
 * what is pending before a query, hears the error lines it made final, and starts it again if it
 * dies. Only long-running backends use it; the CLI indexes in its own thread.
 */
import { Worker } from 'node:worker_threads';
import type { AgentErrorLine } from './indexer.js';
import { workerModule } from '../workers.js';

export type ToIndexWorker = { kind: 'pending'; id: number } | { kind: 'stop' };

export type FromIndexWorker =
  | { kind: 'ready' }
  | { kind: 'indexed'; id?: number; errorLines: RootErrorLine[] }
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'log'; message: string };

/** A new error line on an agent's screen, with the root it is under. */
export type RootErrorLine = AgentErrorLine & { root: string };

export interface IndexThreadOptions {
  /** Error lines that became final while the backend runs (for live error notices). */
  onErrorLines?: (lines: RootErrorLine[]) => void;
  log?: (message: string) => void;
}

export class IndexThread {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private stopped = false;

  constructor(
    private readonly roots: string[],
    private readonly options: IndexThreadOptions = {},
  ) {}

  /** Resolves once everything written to the roots' logs so far is indexed. */
  async pending(): Promise<void> {
    if (this.stopped) throw new Error('the index is closed');
    await this.start();
    const id = this.nextId++;
    await new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker!.postMessage({ kind: 'pending', id } satisfies ToIndexWorker);
    });
  }

  /** Stops the worker (it closes its databases first). */
  async dispose(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ kind: 'stop' } satisfies ToIndexWorker);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await worker.terminate();
  }

  private start(): Promise<void> {
    if (this.ready !== null) return this.ready;
    const worker = new Worker(workerModule(import.meta.url, 'indexWorker.js'), { workerData: { roots: this.roots } });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromIndexWorker) => {
        switch (message.kind) {
          case 'ready':
            resolve();
            return;
          case 'log':
            this.options.log?.(message.message);
            return;
          case 'indexed':
            if (message.errorLines.length > 0) this.options.onErrorLines?.(message.errorLines);
            if (message.id !== undefined) this.settle(message.id, null);
            return;
          case 'failed':
            this.settle(message.id, new Error(message.message));
            return;
        }
      });
      worker.on('error', (err) => {
        this.options.log?.(`the index worker failed: ${err.message}`);
        reject(err);
      });
      worker.on('exit', (code) => {
        // Whatever was asked of it fails; the next query starts a new worker.
        for (const id of [...this.waiting.keys()]) this.settle(id, new Error(`the index worker stopped (exit code ${code}); try again`));
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
        }
        reject(new Error(`the index worker stopped (exit code ${code}) before it was ready`));
      });
    });
    return this.ready;
  }

  private settle(id: number, err: Error | null): void {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) return;
    this.waiting.delete(id);
    if (err === null) waiter.resolve();
    else waiter.reject(err);
  }
}
