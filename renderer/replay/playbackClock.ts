/**
 * The replay's clock, pure so it is unit-tested: given the frames waiting to be shown, how many
 * are due after some wall time at a playback speed, with long idle pauses shortened to the idle
 * cap (like asciinema's `--idle-time-limit`).
 */

/** Playback speeds the replay offers, slowest first. */
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32] as const;
/** Idle caps in seconds the replay offers; null keeps pauses as recorded. */
export const IDLE_CAPS = [null, 0.5, 1, 2, 5] as const;
export const DEFAULT_SPEED = 1;
/** Agents often sit idle for minutes waiting on a model; 2 s keeps the rhythm without the wait. */
export const DEFAULT_IDLE_CAP_SECONDS = 2;
/**
 * Output written into the pane per animation frame at most: at 32× a busy run would otherwise
 * hand xterm megabytes at once and stall the page. What is left is due on the next frame.
 */
export const MAX_BYTES_PER_TICK = 256 * 1024;

export interface ClockFrame {
  /** µs since the epoch. */
  time: number;
  text: string;
}

export interface ClockState {
  /** Time of the last frame shown, µs (null before the first). */
  shownTime: number | null;
  /** Run time that has passed since then and not yet been spent on a frame, µs. */
  pending: number;
}

/**
 * Advances the clock by `elapsedMs` of wall time at `speed`. Returns how many of `frames` (in
 * order) are due and the clock after showing them. Each gap between frames counts at most
 * `idleCapSeconds`. When every waiting frame is due, the time left over is kept only up to one
 * idle cap, so frames fetched late do not arrive in a burst.
 */
export function advanceClock(
  frames: readonly ClockFrame[],
  clock: ClockState,
  elapsedMs: number,
  speed: number,
  idleCapSeconds: number | null,
): { due: number; clock: ClockState } {
  const cap = idleCapSeconds === null ? Infinity : idleCapSeconds * 1_000_000;
  let pending = clock.pending + Math.max(0, elapsedMs) * 1000 * speed;
  let shownTime = clock.shownTime;
  let due = 0;
  let bytes = 0;
  while (due < frames.length && bytes < MAX_BYTES_PER_TICK) {
    const frame = frames[due];
    const gap = shownTime === null ? 0 : Math.min(Math.max(0, frame.time - shownTime), cap);
    if (pending < gap) break;
    pending -= gap;
    shownTime = frame.time;
    bytes += frame.text.length;
    due++;
  }
  if (due === frames.length) pending = Math.min(pending, Number.isFinite(cap) ? cap : DEFAULT_IDLE_CAP_SECONDS * 1_000_000);
  return { due, clock: { shownTime, pending } };
}

/** The next faster (`+1`) or slower (`-1`) speed, staying within the offered range. */
export function nextSpeed(speed: number, direction: 1 | -1): number {
  const index = REPLAY_SPEEDS.findIndex((s) => s >= speed);
  const current = index < 0 ? REPLAY_SPEEDS.length - 1 : index;
  return REPLAY_SPEEDS[Math.min(REPLAY_SPEEDS.length - 1, Math.max(0, current + direction))];
}

/** `1:05.3`, `12:00.0` or `1:02:03.0`: a position in the run, from its start. */
export function formatRunTime(micros: number): string {
  const tenths = Math.max(0, Math.floor(micros / 100_000));
  const seconds = Math.floor(tenths / 10);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = `${String(seconds % 60).padStart(2, '0')}.${tenths % 10}`;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
