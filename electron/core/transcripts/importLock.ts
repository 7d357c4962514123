/**
 * One importer writes into a root at a time: `loupe import` and the background importers of
 * `loupe daemon`, the app and `loupe serve` each take the root's import lock around every file
 * they import, so two of them never write the same session at once (the second one finds it up to
 * date). The lock is a socket lock (capture/socket-lock.ts): a process killed mid-import
 * releases it with its death.
 */
import fs from 'node:fs';
import path from 'node:path';
import { acquireSocketLock, lockAddress } from '../capture/socket-lock.js';
import { workspaceDir } from '../log/paths.js';
import { ImportError } from './importer.js';

/** How long an importer waits for another one to finish a file: longer than any one file takes. */
export const IMPORT_LOCK_WAIT_MS = 120_000;
/** How often a waiting importer tries the lock again. */
const LOCK_RETRY_MS = 50;

/** Another importer held the root's lock too long: nothing is wrong with the file, try it later. */
export class ImportLockTimeout extends ImportError {
  override name = 'ImportLockTimeout';
}

function importLockAddress(root: string): string {
  const resolved = path.resolve(root);
  let key = resolved;
  try {
    key = fs.realpathSync(resolved);
  } catch {
    // a root that does not exist yet is named by its path
  }
  return lockAddress('import', key, () => {
    fs.mkdirSync(workspaceDir(resolved), { recursive: true });
    return path.join(workspaceDir(resolved), 'import.sock');
  });
}

/**
 * Runs `importOne` holding the import lock of `root`, waiting for another importer to release
 * it (`onWait` is called once when it has to wait). Throws ImportLockTimeout after waitMs.
 */
export async function withImportLock<T>(root: string, importOne: () => T, onWait?: () => void, waitMs = IMPORT_LOCK_WAIT_MS): Promise<Awaited<T>> {
  const address = importLockAddress(root);
  const deadline = Date.now() + waitMs;
  let waited = false;
  for (;;) {
    const lock = await acquireSocketLock(address);
    if (lock !== null) {
      try {
        return await importOne();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() >= deadline) {
      throw new ImportLockTimeout(`another import into ${root} (loupe import, or the background import of loupe daemon, the app or loupe serve) held its lock for ${Math.round(waitMs / 1000)} s; try again once it is done`);
    }
    if (!waited) onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}
