/**
 * The capture supervision the app and `loupe serve` embed: one CaptureHost per tmux socket
 * (the same code `loupe daemon` runs). Where a daemon already holds a socket, it is left to it.
 * On dispose, captures that are still running are handed to a background daemon, because
 * closing Loupe must never stop a capture (SPEC §4).
 */
import type { CaptureHost } from '../capture/capture-host.js';

export interface EmbeddedCapture {
  /** The sockets this process supervises (the others have a daemon already). */
  readonly sockets: string[];
  dispose(): Promise<void>;
}

export async function superviseCaptures(sockets: string[], log: (message: string) => void): Promise<EmbeddedCapture> {
  const { CaptureHost } = await import('../capture/capture-host.js');
  const hosts: CaptureHost[] = [];
  for (const socketName of sockets) {
    const host = new CaptureHost({ socketName, log });
    try {
      if (await host.start()) hosts.push(host);
      else await host.dispose();
    } catch (err) {
      log(`cannot supervise captures on tmux socket ${socketName}: ${(err as Error).message}`);
      await host.dispose().catch(() => undefined);
    }
  }
  return {
    sockets: hosts.map((h) => h.tmux.socketName),
    async dispose() {
      const { ensureCaptureHost, recordedCaptures } = await import('../capture/session.js');
      for (const host of hosts.splice(0)) {
        await host.dispose();
        const socket = host.tmux.socketName;
        if (recordedCaptures(socket).length === 0) continue;
        try {
          await ensureCaptureHost(socket);
        } catch (err) {
          log(`could not hand captures on socket ${socket} to a background daemon (${(err as Error).message}); run \`loupe daemon --socket ${socket}\``);
        }
      }
    },
  };
}
