import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/entry.js';
import { ScreenLineMaker, screenLinesOf, SETTLE_US, type ScreenLine } from './screenLines.js';

/** Builds a run: each step is output written at a time (ms), cut into entries at newlines like capture does. */
function run(cols: number, rows: number, steps: [number, string][]): { entry: LogEntry; time: number }[] {
  const out: { entry: LogEntry; time: number }[] = [];
  let seq = 0;
  const at = (ms: number) => 1_700_000_000_000_000 + ms * 1000;
  const push = (ms: number, entry: Omit<LogEntry, 'sequence' | 'timestamp' | 'agent_id'>) =>
    out.push({ entry: { ...entry, sequence: ++seq, timestamp: '', agent_id: 'a' } as LogEntry, time: at(ms) });
  push(0, { type: 'system', content: 'started', metadata: { event: 'started', cols, rows } });
  for (const [ms, text] of steps) {
    const parts = text.split('\n');
    parts.forEach((p, i) => {
      const last = i === parts.length - 1;
      if (last && p === '') return;
      push(ms, { type: 'stdout', content: p, ...(last ? { metadata: { partial: true } } : {}) });
    });
  }
  return out;
}

/** The screen lines of `entries` when the maker is saved and restored (as JSON, as the index stores it) before entry `cut`. */
function linesAcrossRestore(entries: { entry: LogEntry; time: number }[], cut: number) {
  let maker = new ScreenLineMaker();
  const got: ScreenLine[] = [];
  entries.forEach((e, i) => {
    if (i === cut) {
      const state = JSON.parse(JSON.stringify(maker.save()));
      maker.dispose();
      maker = ScreenLineMaker.restore(state);
    }
    maker.apply(e.entry, e.time);
    got.push(...maker.take());
  });
  maker.endRun(entries[entries.length - 1].time);
  got.push(...maker.take());
  maker.dispose();
  return got;
}

const texts = (steps: Parameters<typeof run>[2], cols = 40, rows = 6) => screenLinesOf(run(cols, rows, steps)).map((l) => l.text);

describe('screen lines', () => {
  it('are exactly the lines of plain line output, in order, duplicates included', () => {
    const lines = Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? 'ok' : `line ${i} of the build`));
    const steps: [number, string][] = lines.map((l, i) => [i * 10, `${l}\r\n`]);
    expect(texts(steps)).toEqual(lines);
  });

  it('join a long wrapped line back into one', () => {
    const long = 'x'.repeat(95) + ' end';
    expect(texts([[0, `${long}\r\nnext\r\n`]])).toEqual([long, 'next']);
  });

  it('record a reply streamed word by word into a fixed row once, and not the frames of a spinner', () => {
    const words = 'the quantum widget passed the bounds check'.split(' ');
    const steps: [number, string][] = [[0, '\x1b[?1049h\x1b[H\x1b[2JAgent console']];
    let col = 1;
    words.forEach((w, i) => {
      steps.push([100 + i * 60, `\x1b[3;${col}H${w}\x1b[6;1H\x1b[2Kstatus: tick ${i}`]);
      col += w.length + 1;
    });
    steps.push([100 + words.length * 60 + SETTLE_US / 1000 + 500, '\x1b[?1049l']);
    const got = texts(steps);
    expect(got.filter((t) => t === words.join(' '))).toHaveLength(1);
    expect(got.filter((t) => t.startsWith('status: tick'))).toEqual([`status: tick ${words.length - 1}`]);
    expect(got).toContain('Agent console');
  });

  it('record a line that stood still and was then replaced, but not one replaced at once', () => {
    const got = texts([
      [0, '\x1b[2KConnecting to db\r'],
      [500, '\x1b[2KConnecting to cache\r'],
      [1000, '\x1b[2KConnecting…\r'],
      [1000 + SETTLE_US / 1000 + 100, '\x1b[2KConnected\r\n'],
    ]);
    expect(got).toEqual(['Connecting…', 'Connected']);
  });

  it('record a countdown that ticks for minutes once, not every second and not never', () => {
    const steps: [number, string][] = [];
    for (let s = 0; s < 180; s++) steps.push([s * 1000, `\x1b[2K✻ Unable to connect to API (ConnectionRefused) · Retrying in ${9 - (s % 10)}s · attempt ${1 + Math.floor(s / 10)}/10\r`]);
    steps.push([180_000, '\x1b[2K● API Error: Unable to connect to API\r\n']);
    const got = texts(steps, 100);
    expect(got.filter((t) => t.includes('ConnectionRefused'))).toHaveLength(1);
    expect(got.at(-1)).toBe('● API Error: Unable to connect to API');
  });

  it('keep a line once when a full redraw moves it', () => {
    const frame = (top: string) => `\x1b[H\x1b[2J${top}\r\nkeep me\r\n`;
    const got = texts([
      [0, frame('first')],
      [3000, frame('a\r\nb')],
      [6000, frame('a\r\nb\r\nc')],
    ]);
    expect(got.filter((t) => t === 'keep me')).toHaveLength(1);
  });

  it('continue across a save and restore exactly as without one', () => {
    const steps: [number, string][] = [];
    for (let i = 0; i < 40; i++) steps.push([i * 700, i % 5 === 0 ? `\x1b[2;1H\x1b[Kprogress ${i}` : `row ${i}\r\n`]);
    const entries = run(30, 5, steps);
    const whole = screenLinesOf(entries).map((l) => l.text);
    for (const cut of [5, 17, 33]) {
      const got = linesAcrossRestore(entries, cut).map((l) => l.text);
      expect(got).toEqual(whole);
    }
  });

  it('continue across a save and restore once the scrollback is full of wrapped lines', () => {
    // 200 characters at 80 columns is three rows: 2100 lines fill and trim the 5000-row scrollback.
    const steps: [number, string][] = Array.from({ length: 2100 }, (_, i) => [i, `payload ${i} `.padEnd(200, 'x') + '\r\n']);
    const entries = run(80, 24, steps);
    const whole = screenLinesOf(entries).map((l) => l.lastSeq);
    expect(whole).toEqual(entries.slice(1).map((e) => e.entry.sequence));
    expect(linesAcrossRestore(entries, 2000).map((l) => l.lastSeq)).toEqual(whole);
  });

  it('continue across a save and restore right after a resize that added rows', () => {
    const steps: [number, string][] = Array.from({ length: 40 }, (_, i) => [i * 10, `before ${i}\r\n`]);
    const entries = run(40, 6, steps);
    let seq = entries.length;
    const at = entries[entries.length - 1].time;
    entries.push({ entry: { sequence: ++seq, type: 'system', content: 'resized', agent_id: 'a', timestamp: '', metadata: { event: 'resized', cols: 40, rows: 12 } } as LogEntry, time: at + 1000 });
    for (let i = 0; i < 5; i++) entries.push({ entry: { sequence: ++seq, type: 'stdout', content: `after ${i}\r`, agent_id: 'a', timestamp: '' } as LogEntry, time: at + 2000 + i * 10 });
    const whole = screenLinesOf(entries).map((l) => l.text);
    expect(whole.filter((t) => t.startsWith('after'))).toHaveLength(5);
    for (let cut = 40; cut < entries.length; cut++) {
      const got = linesAcrossRestore(entries, cut).map((l) => l.text);
      expect(got, `cut at ${cut}`).toEqual(whole);
    }
  });
});
