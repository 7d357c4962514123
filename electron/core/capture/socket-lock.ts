/**
 * A lock that is a listening unix socket: on Linux in the abstract namespace, so it vanishes with
 * its process (kill -9 included) and needs no stale-file cleanup; elsewhere a socket file, removed
 * when nobody answers on it. Anyone can ask "is it held?" by connecting to it. The capture host
 * (one per tmux socket) and the transcript importers (one per root at a time) use it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

/** How long a liveness probe waits for the holder to accept. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * The address of the `kind` lock for `key` (a hash of it): abstract on Linux, else the socket
 * file `file()`.
 */
export function lockAddress(kind: string, key: string, file: () => string): string {
  if (process.platform !== 'linux') return file();
  return `\0loupe-${kind}-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** True when a live process holds the lock at `address`. */
export function isLockHeld(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect({ path: address });
    const done = (held: boolean) => {
      conn.destroy();
      resolve(held);
    };
    conn.setTimeout(PROBE_TIMEOUT_MS, () => done(true)); // listening but slow: still alive
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

/** A held lock; `release()` frees it. */
export interface SocketLock {
  /** True once another process asked whether the lock is held (a waiter, see `isLockHeld`). */
  readonly asked: boolean;
  release(): Promise<void>;
}

/** Takes the lock at `address`, or resolves null when another live process holds it. */
export async function acquireSocketLock(address: string): Promise<SocketLock | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let asked = false;
    const server = net.createServer((conn) => {
      asked = true;
      conn.end();
    });
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', (err) => resolve(err as NodeJS.ErrnoException));
      server.listen({ path: address }, () => resolve(null));
    });
    if (error === null) {
      server.unref(); // the lock alone must not keep a process alive
      return {
        get asked() {
          return asked;
        },
        release: () => new Promise((resolve) => server.close(() => resolve())),
      };
    }
    if (error.code !== 'EADDRINUSE') throw error;
    if (address.startsWith('\0') || (await isLockHeld(address))) return null;
    fs.rmSync(address, { force: true }); // a socket file left by a holder that died
  }
  return null;
}
