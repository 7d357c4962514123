/**
 * One importer writes into a root at a time: `loupe import` and the background importers of
 * `loupe daemon`, the app and `loupe serve` each take the root's import lock around every file
 * they import, so two of them never write the same session at once (the second one finds it up to
 * date). The lock is a socket lock (capture/socket-lock.ts): a process killed mid-import
 * releases it with its death.
 */
import fs from 'node:fs';
import path from 'node:path';
import { acquireSocketLock, isLockHeld, lockAddress } from '../capture/socket-lock.js';
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

export interface ImportLockOptions {
  /** Called once when the lock is held by another importer and this one has to wait. */
  onWait?: () => void;
  /** Give up (ImportLockTimeout) after this long. */
  waitMs?: number;
  /**
   * After an import during which another importer waited, pause this long before returning, so
   * the waiter gets the lock before this one takes it again (background import, which imports
   * file after file, would otherwise keep `loupe import` waiting for its whole pass).
   */
  yieldMs?: number;
}

/**
 * Runs `importOne` holding the import lock of `root`, waiting for another importer to release
 * it. While it waits it asks the holder every LOCK_RETRY_MS, which is how the holder knows.
 */
export async function withImportLock<T>(root: string, importOne: () => T, options: ImportLockOptions = {}): Promise<Awaited<T>> {
  const address = importLockAddress(root);
  const waitMs = options.waitMs ?? IMPORT_LOCK_WAIT_MS;
  const deadline = Date.now() + waitMs;
  let waited = false;
  for (;;) {
    const lock = await acquireSocketLock(address);
    if (lock !== null) {
      let result: Awaited<T>;
      try {
        result = await importOne();
        // One turn of the event loop, so a waiter's question queued during a synchronous import
        // is answered (and counted) before the lock closes.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        await lock.release();
      }
      if (lock.asked && options.yieldMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.yieldMs));
      return result;
    }
    if (Date.now() >= deadline) {
      throw new ImportLockTimeout(`another import into ${root} (loupe import, or the background import of loupe daemon, the app or loupe serve) held its lock for ${Math.round(waitMs / 1000)} s; try again once it is done`);
    }
    if (!waited) options.onWait?.();
    waited = true;
    await isLockHeld(address); // tells the holder that someone waits
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}
