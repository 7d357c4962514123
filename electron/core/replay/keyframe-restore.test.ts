import { describe, expect, it } from 'vitest';
import { restoreTerminalState, serializeTerminalState, snapshotTerminal, writeToTerminal } from '../../../shared/terminal-state.js';
import { createReplayTerminal, feedTerminal, TerminalFeedError } from './terminal.js';

/** A tiny deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pieces of output that real programs write, state changes included. The saved cursor (DECSC /
 * DECRC) has its own test: a few of its corner states (saved at a pending wrap, saved again inside
 * the alternate screen) cannot be rebuilt from escape sequences alone. So can't a character set
 * left selected by DECRC; line drawing itself is covered here in its usual form.
 */
const PIECES: ((r: () => number) => string)[] = [
  () => 'hello world ',
  (r) => 'x'.repeat(1 + Math.floor(r() * 50)),
  () => '日本語テキスト',
  () => '🎉✅',
  () => '\r\n',
  () => '\n',
  () => '\r',
  () => '\t',
  () => '\b',
  (r) => `\x1b[${[0, 1, 2, 3, 4, 7, 9, 31, 42, 93, 104][Math.floor(r() * 11)]}m`,
  (r) => `\x1b[38;5;${Math.floor(r() * 256)}m`,
  (r) => `\x1b[48;2;${Math.floor(r() * 256)};10;200m`,
  (r) => `\x1b[${1 + Math.floor(r() * 12)};${1 + Math.floor(r() * 30)}H`,
  (r) => `\x1b[${1 + Math.floor(r() * 4)};${6 + Math.floor(r() * 6)}r`,
  () => '\x1b[r',
  () => '\x1b[?1049h',
  () => '\x1b[?1049l',
  () => '\x1b[?1h',
  () => '\x1b[?1l',
  () => '\x1b[?2004h',
  () => '\x1b[?1000h',
  () => '\x1b[?1002h\x1b[?1006h',
  () => '\x1b[?1000l\x1b[?1002l',
  () => '\x1b[?25l',
  () => '\x1b[?25h',
  () => '\x1b(0lqqk\x1b(B',
  () => '\x1b[4h',
  () => '\x1b[4l',
  () => '\x1b[?6h',
  () => '\x1b[?6l',
  () => '\x1b[?7l',
  () => '\x1b[?7h',
  () => '\x1b[2J',
  () => '\x1b[K',
  () => '\x1b[1J',
  () => '\x1b[2S',
  () => '\x1b[T',
  () => '\x1bM',
  () => '\x1bD',
  () => '\x1b[3L',
  () => '\x1b[2M',
  () => '\x1b[5 q',
  () => '\x1b[3P',
  () => '\x1b[4@',
  (r) => `${'y'.repeat(Math.floor(r() * 40))}`, // lands exactly at the margin sometimes
];

const WIDE = new Set(["日本語テキスト", "🎉✅"]);
const EDITS = new Set(["\x1b[3P", "\x1b[4@", "\x1b[?7l"]);

/**
 * Random output as a list of pieces; keyframes are taken between pieces (never inside a
 * sequence). The alternate screen is entered only when not in it already (entering twice saves a
 * second cursor, a known limit). `wide` chooses between wide characters and character edits
 * (insert/delete characters, no autowrap): together they can leave half a wide character in a
 * cell, a state xterm itself makes but that no output can recreate.
 */
function randomPieces(seed: number, count: number, wide: boolean): string[] {
  const r = random(seed);
  const out: string[] = [];
  let inAlt = false;
  while (out.length < count) {
    const piece = PIECES[Math.floor(r() * PIECES.length)](r);
    if (wide ? EDITS.has(piece) : WIDE.has(piece)) continue;
    if (piece === '\x1b[?1049h') {
      if (inAlt) continue;
      inAlt = true;
    }
    if (piece === '\x1b[?1049l') inAlt = false;
    out.push(piece);
  }
  return out;
}

/** Writes `before`, restores a keyframe of it into a second terminal, writes `after` to both. */
async function compareThroughKeyframe(cols: number, rows: number, before: string, after: string) {
  let direct = createReplayTerminal(cols, rows);
  const restored = createReplayTerminal(cols, rows);
  try {
    feedTerminal(direct.term, before);
    feedTerminal(direct.term, after);
  } catch (err) {
    // xterm itself fails on a few random sequences (e.g. an erase after some scroll-region moves);
    // such a stream tells nothing about keyframes.
    if (err instanceof TerminalFeedError) return null;
    throw err;
  }
  direct.dispose();
  direct = createReplayTerminal(cols, rows);
  try {
    await writeToTerminal(direct.term, before);
    const state = serializeTerminalState(direct.term, direct.serializer);
    await restoreTerminalState(restored.term, cols, rows, state);
    const atKeyframe = [snapshotTerminal(restored.term), snapshotTerminal(direct.term)];
    await writeToTerminal(direct.term, after);
    await writeToTerminal(restored.term, after);
    return { atKeyframe, afterDelta: [snapshotTerminal(restored.term), snapshotTerminal(direct.term)] };
  } finally {
    direct.dispose();
    restored.dispose();
  }
}

async function compareOrThrow(cols: number, rows: number, before: string, after: string) {
  const r = await compareThroughKeyframe(cols, rows, before, after);
  if (r === null) throw new Error('xterm failed on the test input');
  return r;
}

function diffs(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
  const out: string[] = [];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) out.push(...diffs(ra[k], rb[k], `${path}.${k}`));
  return out;
}

describe('keyframe restore', () => {
  it('keeps the scroll region, so later output scrolls only inside it', async () => {
    const r = await compareOrThrow(20, 8, 'a\r\nb\r\nc\x1b[2;4r\x1b[4;1H', 'x\ny\nz\nw\n');
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('keeps a wrap pending at the last column, so the next character starts a new line', async () => {
    const r = await compareOrThrow(10, 4, 'abcdefghij', 'K');
    expect(r.atKeyframe[0]).toEqual(r.atKeyframe[1]);
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('keeps the cursor saved by DECSC, so DECRC returns to it', async () => {
    const r = await compareOrThrow(20, 5, '\x1b[2;3H\x1b[31m\x1b7\x1b[0m\x1b[5;1Hz', '\x1b8Q');
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('keeps line drawing selected, so later letters still draw lines', async () => {
    const r = await compareOrThrow(20, 5, '\x1b(0lq', 'qqk');
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('keeps the alternate screen, mouse tracking and bracketed paste, and leaving it restores the shell screen', async () => {
    const r = await compareOrThrow(
      30,
      6,
      '$ ls\r\nfile1 file2\r\n$ less f\x1b[?1049h\x1b[?1000h\x1b[?1006h\x1b[?2004h\x1b[?1h\x1b[H\x1b[2Jpage one\x1b[6;1H:',
      '\x1b[?1000l\x1b[?1049l\r\n$ ',
    );
    expect(r.atKeyframe[0]).toEqual(r.atKeyframe[1]);
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('keeps origin mode, so cursor moves stay relative to the scroll region', async () => {
    const r = await compareOrThrow(20, 8, '\x1b[3;6r\x1b[?6h\x1b[2;2Hin', '\x1b[1;1HO');
    expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
  });

  it('gives the same terminal as writing everything, for random output split at random points', async () => {
    const failures: string[] = [];
    let compared = 0;
    for (let seed = Number(process.env.SEED ?? 1); seed <= Number(process.env.SEED ?? 150); seed++) {
      const pieces = randomPieces(seed, 120, seed % 2 === 0);
      const split = Math.floor(random(seed * 7)() * pieces.length);
      const [before, after] = [pieces.slice(0, split).join(''), pieces.slice(split).join('')];
      const r = await compareThroughKeyframe(24, 10, before, after);
      if (r === null) continue;
      compared++;
      try {
        expect(r.afterDelta[0]).toEqual(r.afterDelta[1]);
      } catch {
        failures.push(String(seed));
        if (process.env.DEBUG_KEYFRAMES) {
          const t = createReplayTerminal(24, 10);
          await writeToTerminal(t.term, before);
          console.log('STATE', JSON.stringify(serializeTerminalState(t.term, t.serializer)));
        }
        if (process.env.DEBUG_KEYFRAMES) console.log(seed, JSON.stringify(before), JSON.stringify(after), diffs(r.afterDelta[0], r.afterDelta[1]).slice(0, 6));
      }
    }
    expect(compared).toBeGreaterThan(100);
    // A few random streams reach states that no escape sequence can recreate: the first row of
    // the scrollback marked as the continuation of a trimmed line, or cells damaged by character
    // inserts at the margin inside a scroll region. They are rare in real output, so they are
    // bounded here rather than excluded; anything more than that is a regression.
    expect(failures.length, `seeds that differ: ${failures.join(' ')}`).toBeLessThanOrEqual(Math.ceil(compared * 0.03));
  });
});
