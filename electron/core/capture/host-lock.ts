/**
 * One capture host per tmux socket (and state dir), held with a socket lock (socket-lock.ts).
 */
import path from 'node:path';
import { acquireSocketLock, isLockHeld, lockAddress, type SocketLock } from './socket-lock.js';
import { socketStateDir, stateDir } from './state.js';

function hostLockAddress(socketName: string): string {
  return lockAddress('capture-host', `${stateDir()}\0${socketName}`, () => path.join(socketStateDir(socketName), 'host.sock'));
}

/** True when a capture host holds the lock for this socket. */
export function isHostRunning(socketName: string): Promise<boolean> {
  return isLockHeld(hostLockAddress(socketName));
}

/** A held host lock; `release()` frees it. */
export type HostLock = SocketLock;

/** Takes the host lock for a socket, or resolves null when another live host holds it. */
export function acquireHostLock(socketName: string): Promise<HostLock | null> {
  return acquireSocketLock(hostLockAddress(socketName));
}
