import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotTerminal, screenText } from '../../../shared/terminal-state.js';
import { KEYFRAME_INTERVAL_BYTES, KeyframeStore } from './keyframes.js';
import { seekReplay, updateKeyframes } from './seek.js';
import { random, writeSyntheticRun, type SyntheticRun } from './test-support.js';

/** Small keyframe spacing so a short run has many keyframes (the default is sized for GB runs). */
const INTERVAL = 16 * 1024;

describe('seeking through keyframes', () => {
  let run: SyntheticRun;
  beforeAll(async () => {
    run = await writeSyntheticRun({ seed: 7, bytes: 200_000 });
  });
  afterAll(() => run.dispose());

  it('builds keyframes lazily while seeking to the end, and stores them beside the index', async () => {
    const screen = await seekReplay(run.log, { end: true }, { keyframeIntervalBytes: INTERVAL });
    screen.dispose();
    const store = KeyframeStore.forLog(run.log);
    expect(store.dir).toContain(`${run.root}/.agent-workspace/.loupe-cache/keyframes/${run.log.taskId}/agent-1`);
    expect(store.list().length).toBeGreaterThan(5);
    expect(store.sizeOnDisk()).toBeGreaterThan(0);
  });

  it('reaches the same terminal through a keyframe as by replaying from the start, at random entries', async () => {
    const r = random(99);
    let throughKeyframes = 0;
    const targets = Array.from({ length: 8 }, () => 1 + Math.floor(r() * run.lastSeq));
    for (const seq of targets) {
      const viaKeyframe = await seekReplay(run.log, { seq }, { keyframeIntervalBytes: INTERVAL });
      const fromStart = await seekReplay(run.log, { seq }, { keyframes: false });
      try {
        expect(viaKeyframe.replayer.seq).toBe(fromStart.replayer.seq);
        expect([viaKeyframe.replayer.cols, viaKeyframe.replayer.rows]).toEqual([fromStart.replayer.cols, fromStart.replayer.rows]);
        expect(screenText(viaKeyframe.replayer.terminal.term), `screen at seq ${seq}`).toEqual(screenText(fromStart.replayer.terminal.term));
        const a = snapshotTerminal(viaKeyframe.replayer.terminal.term);
        const b = snapshotTerminal(fromStart.replayer.terminal.term);
        // Keyframes keep a bounded scrollback, so compare the screen, cursor, modes and state, not history.
        const visible = (s: Record<string, unknown>, rows: number) => ({
          ...s,
          normal: (s.normal as { lines: string[] }).lines.slice(-rows),
          normalCells: (s.normal as { cells: string[] }).cells.slice(-rows),
        });
        expect(visible(a, fromStart.replayer.rows), `terminal state at seq ${seq}`).toEqual(visible(b, fromStart.replayer.rows));
        if (viaKeyframe.keyframe !== null) {
          throughKeyframes++;
          expect(viaKeyframe.bytesReplayed).toBeLessThan(fromStart.bytesReplayed);
        }
      } finally {
        viaKeyframe.dispose();
        fromStart.dispose();
      }
    }
    expect(throughKeyframes).toBeGreaterThan(4);
  });

  it('rebuilds the cache when the log no longer matches it', async () => {
    const store = KeyframeStore.forLog(run.log);
    expect(store.list().length).toBeGreaterThan(0);
    // Replace the log with a different run under the same name.
    const other = await writeSyntheticRun({ seed: 8, bytes: 50_000 });
    try {
      const original = fs.readFileSync(run.log.file);
      fs.copyFileSync(other.log.file, run.log.file);
      try {
        const viaCache = await seekReplay(run.log, { end: true }, { keyframeIntervalBytes: INTERVAL });
        const fromStart = await seekReplay(run.log, { end: true }, { keyframes: false });
        expect(screenText(viaCache.replayer.terminal.term)).toEqual(screenText(fromStart.replayer.terminal.term));
        viaCache.dispose();
        fromStart.dispose();
      } finally {
        fs.writeFileSync(run.log.file, original);
        KeyframeStore.forLog(run.log).clear();
      }
    } finally {
      other.dispose();
    }
  });

  it('rebuilds the cache when a stored state is damaged', async () => {
    (await seekReplay(run.log, { end: true }, { keyframeIntervalBytes: INTERVAL })).dispose();
    const store = KeyframeStore.forLog(run.log);
    const k = store.list()[2];
    const data = `${store.dir}/states.bin`;
    const bytes = fs.readFileSync(data);
    bytes[k.dataOffset + 3] ^= 0xff;
    fs.writeFileSync(data, bytes);
    const viaCache = await seekReplay(run.log, { seq: k.seq }, { keyframeIntervalBytes: INTERVAL });
    const fromStart = await seekReplay(run.log, { seq: k.seq }, { keyframes: false });
    expect(screenText(viaCache.replayer.terminal.term)).toEqual(screenText(fromStart.replayer.terminal.term));
    expect(viaCache.keyframe).toBeNull();
    viaCache.dispose();
    fromStart.dispose();
  });

  it('gives the same screen after the keyframe cache is deleted', async () => {
    const before = await seekReplay(run.log, { seq: Math.floor(run.lastSeq / 2) }, { keyframeIntervalBytes: INTERVAL });
    const text = screenText(before.replayer.terminal.term);
    before.dispose();
    KeyframeStore.forLog(run.log).clear();
    const after = await seekReplay(run.log, { seq: Math.floor(run.lastSeq / 2) }, { keyframeIntervalBytes: INTERVAL });
    expect(after.keyframe).toBeNull();
    expect(screenText(after.replayer.terminal.term)).toEqual(text);
    after.dispose();
  });
});

describe('keyframes made while indexing', () => {
  it('updateKeyframes makes the keyframes that a first seek starts from', async () => {
    const run = await writeSyntheticRun({ seed: 3, bytes: 3 * KEYFRAME_INTERVAL_BYTES });
    try {
      await updateKeyframes(run.log);
      const made = KeyframeStore.forLog(run.log).list().length;
      expect(made).toBeGreaterThanOrEqual(2);
      await updateKeyframes(run.log);
      expect(KeyframeStore.forLog(run.log).list()).toHaveLength(made);
      const screen = await seekReplay(run.log, { seq: run.lastSeq });
      try {
        expect(screen.keyframe).not.toBeNull();
        expect(screen.bytesReplayed).toBeLessThan(KEYFRAME_INTERVAL_BYTES);
      } finally {
        screen.dispose();
      }
    } finally {
      run.dispose();
    }
  });
});
