/**
 * Capture for the app and `loupe serve` (SPEC §4): never in their own event loop. Each tmux
 * socket with captures gets a `loupe daemon`, started on demand the way `run` and `attach` start
 * one, so nothing a UI client does (a crash, a flood of calls, descriptor exhaustion, `kill -9`)
 * can stop or slow capture. Closing the app or the server leaves the daemons capturing.
 */
export async function startCaptureDaemons(sockets: string[], log: (message: string) => void): Promise<void> {
  const { ensureCaptureHost, recordedCaptures } = await import('../capture/session.js');
  for (const socket of sockets) {
    if (recordedCaptures(socket).length === 0) continue; // `run` and `attach` start one when needed
    try {
      await ensureCaptureHost(socket);
    } catch (err) {
      log(`cannot start a capture daemon for tmux socket ${socket} (${(err as Error).message}); run \`loupe daemon --socket ${socket}\``);
    }
  }
}
