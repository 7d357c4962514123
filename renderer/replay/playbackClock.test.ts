import { describe, expect, it } from 'vitest';
import { advanceClock, formatRunTime, MAX_BYTES_PER_TICK, nextSpeed } from './playbackClock.js';

const S = 1_000_000; // µs per second
const frames = (times: number[]) => times.map((t) => ({ time: t * S, text: 'x' }));

describe('playback clock', () => {
  it('shows the first frame at once and the next ones when their time has come', () => {
    const f = frames([10, 11, 13]);
    let r = advanceClock(f, { shownTime: null, pending: 0 }, 0, 1, null);
    expect(r.due).toBe(1);
    r = advanceClock(f.slice(1), r.clock, 999, 1, null);
    expect(r.due).toBe(0);
    r = advanceClock(f.slice(1), r.clock, 1, 1, null);
    expect(r.due).toBe(1);
    expect(r.clock.shownTime).toBe(11 * S);
  });

  it('plays eight times faster at 8x', () => {
    const f = frames([0, 8, 16]);
    const r = advanceClock(f.slice(1), { shownTime: 0, pending: 0 }, 1000, 8, null);
    expect(r.due).toBe(1);
    expect(advanceClock(f.slice(1), { shownTime: 0, pending: 0 }, 999, 8, null).due).toBe(0);
  });

  it('shortens idle pauses to the idle cap', () => {
    const f = frames([0, 600]);
    expect(advanceClock(f.slice(1), { shownTime: 0, pending: 0 }, 2000, 1, 2).due).toBe(1);
    expect(advanceClock(f.slice(1), { shownTime: 0, pending: 0 }, 1999, 1, 2).due).toBe(0);
    expect(advanceClock(f.slice(1), { shownTime: 0, pending: 0 }, 2000, 1, null).due).toBe(0);
  });

  it('does not bank time while no frames are waiting, so late frames do not burst', () => {
    const r = advanceClock([], { shownTime: 0, pending: 0 }, 60_000, 1, 1);
    expect(r.clock.pending).toBe(1 * S);
  });

  it('leaves output beyond one tick budget for the next tick', () => {
    const big = Array.from({ length: 4 }, (_, i) => ({ time: i, text: 'y'.repeat(MAX_BYTES_PER_TICK / 2) }));
    const r = advanceClock(big, { shownTime: 0, pending: 0 }, 1000, 1, null);
    expect(r.due).toBe(2);
  });

  it('steps speeds within 0.25x to 32x', () => {
    expect(nextSpeed(1, 1)).toBe(2);
    expect(nextSpeed(32, 1)).toBe(32);
    expect(nextSpeed(0.25, -1)).toBe(0.25);
    expect(nextSpeed(8, -1)).toBe(4);
  });

  it('formats run positions as m:ss.t or h:mm:ss.t', () => {
    expect(formatRunTime(65.34 * S)).toBe('1:05.3');
    expect(formatRunTime(3723 * S)).toBe('1:02:03.0');
    expect(formatRunTime(0)).toBe('0:00.0');
  });
});
