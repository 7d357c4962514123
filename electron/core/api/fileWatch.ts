/**
 * Calls back when a file may have changed: fs.watch on its folder (so appends, rotation and
 * re-creation are all seen) plus a slow poll, because fs.watch can miss events or fail outright
 * (inotify limits, network file systems).
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

export function watchFile(file: string, onChange: () => void): FileWatch {
  const name = path.basename(file);
  let watcher: fs.FSWatcher | null = null;
  let pollMs = FALLBACK_POLL_MS;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name || changed.startsWith(name + '.')) onChange();
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
  let poll = setInterval(onChange, pollMs);
  poll.unref();
  function restartPoll(ms: number): void {
    clearInterval(poll);
    poll = setInterval(onChange, ms);
    poll.unref();
  }
  return {
    dispose() {
      clearInterval(poll);
      watcher?.close();
      watcher = null;
    },
  };
}
