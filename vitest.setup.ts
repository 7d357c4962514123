// Every test file keeps capture state (daemon locks, spools, records) in its own temp folder,
// never in the user's ~/.local/state/loupe, unless a test sets LOUPE_STATE_DIR itself; the
// folder is removed when the file's tests are done.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

if (!process.env.LOUPE_STATE_DIR) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-test-state-'));
  process.env.LOUPE_STATE_DIR = stateDir;
  afterAll(() => {
    // A capture daemon a test started may still be finishing in it; a leftover is not a failure.
    fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
}
