/**
 * One capture host per tmux socket (and state dir). The lock is a listening unix socket:
 * on Linux in the abstract namespace, so it vanishes with its process (kill -9 included) and
 * needs no stale-file cleanup; elsewhere a socket file in the socket's state dir.
 * Anyone can ask "is a host running?" by connecting to it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { socketStateDir, stateDir } from './state.js';

/** How long a liveness probe waits for the host to accept. */
const PROBE_TIMEOUT_MS = 1000;

function lockAddress(socketName: string): string {
  if (process.platform === 'linux') {
    const hash = createHash('sha256').update(`${stateDir()}\0${socketName}`).digest('hex').slice(0, 24);
    return `\0loupe-capture-host-${hash}`;
  }
  return path.join(socketStateDir(socketName), 'host.sock');
}

/** True when a capture host holds the lock for this socket. */
export function isHostRunning(socketName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect({ path: lockAddress(socketName) });
    const done = (running: boolean) => {
      conn.destroy();
      resolve(running);
    };
    conn.setTimeout(PROBE_TIMEOUT_MS, () => done(true)); // listening but slow: still alive
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

/** A held host lock; `release()` frees it. */
export interface HostLock {
  release(): Promise<void>;
}

/** Takes the host lock for a socket, or resolves null when another live host holds it. */
export async function acquireHostLock(socketName: string): Promise<HostLock | null> {
  const address = lockAddress(socketName);
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = net.createServer((conn) => conn.end());
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', (err) => resolve(err as NodeJS.ErrnoException));
      server.listen({ path: address }, () => resolve(null));
    });
    if (error === null) {
      server.unref(); // the lock alone must not keep a process alive
      return { release: () => new Promise((resolve) => server.close(() => resolve())) };
    }
    if (error.code !== 'EADDRINUSE') throw error;
    if (address.startsWith('\0') || (await isHostRunning(socketName))) return null;
    fs.rmSync(address, { force: true }); // a socket file left by a host that died
  }
  return null;
}
