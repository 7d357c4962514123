/**
 * A worker thread that makes the keyframes of agents' runs (`keyframeThread.ts`): `loupe reindex`
 * runs it beside the indexer, so the second core plays the runs into terminals while the first
 * indexes them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AgentLog } from '../log/paths.js';
import { updateKeyframes } from './seek.js';
import type { FromKeyframeWorker } from './keyframeThread.js';

const port = parentPort!;
const send = (message: FromKeyframeWorker) => port.postMessage(message);
for (const log of (workerData as { logs: AgentLog[] }).logs) {
  try {
    await updateKeyframes(log);
  } catch (err) {
    send({ kind: 'failed', file: log.file, message: (err as Error).message });
  }
}
send({ kind: 'done' });
