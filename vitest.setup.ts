// Every test run keeps capture state (daemon locks, spools, records) in its own temp folder,
// never in the user's ~/.local/state/loupe, unless a test sets LOUPE_STATE_DIR itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

if (!process.env.LOUPE_STATE_DIR) {
  process.env.LOUPE_STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-test-state-'));
}
