/**
 * Makes agents' keyframes in a worker thread (`keyframeWorker.ts`), beside whatever this thread
 * does meanwhile: `loupe reindex` indexes on this one. Keyframes read only the JSONL, never the
 * index, so the two passes are independent.
 */
import { Worker } from 'node:worker_threads';
import type { AgentLog } from '../log/paths.js';
import { workerModule } from '../workers.js';

export type FromKeyframeWorker = { kind: 'failed'; file: string; message: string } | { kind: 'done' };

/** Starts making the keyframes of `logs`; resolves with the runs that failed, once all are done. */
export function makeKeyframesInWorker(logs: AgentLog[]): Promise<{ file: string; message: string }[]> {
  const failed: { file: string; message: string }[] = [];
  const worker = new Worker(workerModule(import.meta.url, 'keyframeWorker.js'), { workerData: { logs } });
  return new Promise((resolve, reject) => {
    worker.on('message', (message: FromKeyframeWorker) => {
      if (message.kind === 'failed') failed.push({ file: message.file, message: message.message });
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve(failed));
  });
}
