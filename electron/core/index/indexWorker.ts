/**
 * The worker thread that keeps the open roots' indexes up to date for a long-running backend
 * (the app, `loupe serve`): indexing and the screen-lines pass run here, so a reindex or a burst
 * of output never delays a live push or a request on the serving thread. See `indexThread.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AgentLog } from '../log/paths.js';
import { updateKeyframes } from '../replay/seek.js';
import { Indexer, type IndexStats } from './indexer.js';
import type { FromIndexWorker, RootErrorLine, ToIndexWorker } from './indexThread.js';

const port = parentPort!;
const roots = (workerData as { roots: string[] }).roots;
const send = (message: FromIndexWorker) => port.postMessage(message);

const indexers: Indexer[] = [];
for (const root of roots) {
  try {
    indexers.push(new Indexer(root));
  } catch (err) {
    send({ kind: 'log', message: `cannot open the index of ${root}: ${(err as Error).message}` });
  }
}
/** Error lines that showed before this backend started are history, not news. */
const startedAt = Date.now() * 1000;

function news(indexer: Indexer, stats: IndexStats): RootErrorLine[] {
  keyframesDue(stats.changedAgents);
  return stats.errorLines.filter((l) => l.time >= startedAt).map((l) => ({ ...l, root: indexer.root }));
}

/** Agents whose keyframes are queued to be extended; one agent's are made at a time, between passes. */
const keyframesQueued = new Set<string>();
let keyframesMade = Promise.resolve();

/** Extends the keyframes of agents with new output, so a first seek into them is fast (SPEC §7). */
function keyframesDue(logs: AgentLog[]): void {
  for (const log of logs) {
    if (keyframesQueued.has(log.file)) continue;
    keyframesQueued.add(log.file);
    keyframesMade = keyframesMade.then(async () => {
      keyframesQueued.delete(log.file);
      try {
        await updateKeyframes(log);
      } catch (err) {
        send({ kind: 'log', message: `keyframes of ${log.file}: ${(err as Error).message}` });
      }
    });
  }
}

for (const indexer of indexers) {
  indexer.watch({
    onIndexed: (stats) => {
      const errorLines = news(indexer, stats);
      if (errorLines.length > 0) send({ kind: 'indexed', errorLines });
    },
    onError: (err) => send({ kind: 'log', message: `indexing ${indexer.root}: ${err.message}` }),
  });
}

port.on('message', (message: ToIndexWorker) => {
  if (message.kind === 'stop') {
    for (const indexer of indexers) indexer.dispose();
    port.close();
    return;
  }
  // A query is about to run: index what is pending first, so its results are as fresh as the CLI's.
  try {
    const errorLines = indexers.flatMap((indexer) => news(indexer, indexer.indexPending()));
    send({ kind: 'indexed', id: message.id, errorLines });
  } catch (err) {
    send({ kind: 'failed', id: message.id, message: (err as Error).message });
  }
});
send({ kind: 'ready' });
