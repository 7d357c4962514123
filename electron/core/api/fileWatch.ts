/**
 * Calls back when a file may have changed: fs.watch on its folder (so appends, rotation and
 * re-creation are all seen) plus a slow poll, because fs.watch can miss events or fail outright
 * (inotify limits, network file systems).
 *
 * One watch per file for the whole process, however many subscriptions and clients follow it
 * (RELIABILITY W6): each caller only adds a listener.
 */
import fs from 'node:fs';
import path from 'node:path';

/** With fs.watch working, the poll is only a safety net. */
const SAFETY_POLL_MS = 1000;
/** Without fs.watch, the poll is the only signal, so it runs often enough to feel live. */
const FALLBACK_POLL_MS = 100;

export interface FileWatch {
  dispose(): void;
}

interface SharedWatch {
  listeners: Set<() => void>;
  stop(): void;
}

const watches = new Map<string, SharedWatch>();

/** How many files are being watched in this process (for tests and diagnostics). */
export function watchedFileCount(): number {
  return watches.size;
}

export function watchFile(file: string, onChange: () => void): FileWatch {
  const key = path.resolve(file);
  let shared = watches.get(key);
  if (shared === undefined) {
    shared = startWatch(key);
    watches.set(key, shared);
  }
  const listener = () => onChange();
  shared.listeners.add(listener);
  const watch = shared;
  return {
    dispose() {
      if (!watch.listeners.delete(listener) || watch.listeners.size > 0) return;
      watch.stop();
      if (watches.get(key) === watch) watches.delete(key);
    },
  };
}

function startWatch(file: string): SharedWatch {
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  const name = path.basename(file);
  let watcher: fs.FSWatcher | null = null;
  let pollMs = FALLBACK_POLL_MS;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changedName) => {
      if (changedName === null || changedName === name || changedName.startsWith(name + '.')) changed();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = null;
      restartPoll(FALLBACK_POLL_MS);
    });
    pollMs = SAFETY_POLL_MS;
  } catch {
    watcher = null;
  }
  let poll = setInterval(changed, pollMs);
  poll.unref();
  function restartPoll(ms: number): void {
    clearInterval(poll);
    poll = setInterval(changed, ms);
    poll.unref();
  }
  return {
    listeners,
    stop() {
      clearInterval(poll);
      watcher?.close();
      watcher = null;
    },
  };
}
