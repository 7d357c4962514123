/**
 * The worker thread that runs background import (backgroundImport.ts) for `loupe daemon`, the
 * app and `loupe serve`: reading and parsing sessions here never delays capture or a request on
 * the main thread. See importThread.ts.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { listCaptureIds, loadRecord, socketStateDir } from '../capture/state.js';
import { BackgroundImport } from './backgroundImport.js';
import type { FromImportWorker, ImportWorkerData, ToImportWorker } from './importThread.js';

/**
 * The niceness of this thread (on Linux the nice value is per thread): when the machine is busy,
 * the process's main thread, which converts captures, gets the CPU first.
 */
const IMPORT_THREAD_NICE = 10;
try {
  os.setPriority(IMPORT_THREAD_NICE);
} catch {
  // not allowed here: import still runs, at the same priority
}

const port = parentPort!;
const data = workerData as ImportWorkerData;
const send = (message: FromImportWorker) => port.postMessage(message);

/** The given roots, and the roots of the captures recorded on the given tmux sockets. */
function roots(): string[] {
  const found = [...data.roots];
  for (const socket of data.sockets) {
    const dir = socketStateDir(socket);
    for (const id of listCaptureIds(dir)) {
      const root = loadRecord(dir, id)?.root;
      if (root !== undefined) found.push(root);
    }
  }
  return found;
}

const importer = new BackgroundImport({ roots, log: (message) => send({ kind: 'log', message }) });
let timer: NodeJS.Timeout | null = null;
let stopped = false;

async function passAndWait(): Promise<void> {
  try {
    const pass = await importer.pass();
    send({ kind: 'pass', pass });
  } catch (err) {
    send({ kind: 'log', message: `background import failed: ${(err as Error).message}` });
  }
  if (!stopped) timer = setTimeout(() => void passAndWait(), data.intervalMs);
}

port.on('message', (message: ToImportWorker) => {
  if (message.kind !== 'stop') return;
  stopped = true;
  if (timer !== null) clearTimeout(timer);
  port.close();
});
void passAndWait();
