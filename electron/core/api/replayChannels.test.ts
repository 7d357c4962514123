import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTROL_CHANNELS, type ReplayFrames, type ReplayScreen, type ReplayTimeline } from '../../../shared/ipc.js';
import { screenText, snapshotTerminal } from '../../../shared/terminal-state.js';
import { LogWriter } from '../log/writer.js';
import { seekReplay } from '../replay/seek.js';
import { createReplayTerminal, feedTerminal, type ReplayTerminal } from '../replay/terminal.js';
import { writeSyntheticRun, type SyntheticRun } from '../replay/test-support.js';
import { startBackend, type Backend, type BackendClient } from './backend.js';

let run: SyntheticRun;
let backend: Backend;
let client: BackendClient;
const terminals: ReplayTerminal[] = [];

beforeEach(async () => {
  run = await writeSyntheticRun({ seed: 7, bytes: 600_000, cols: 80, rows: 24 });
  backend = startBackend({ roots: [run.root], sockets: [], version: '0.0.0' });
  client = backend.connect({ transport: 'websocket', allowedControl: CONTROL_CHANNELS, send: () => undefined });
});
afterEach(async () => {
  for (const t of terminals.splice(0)) t.dispose();
  client.close();
  await backend.dispose();
  run.dispose();
});

const ref = () => ({ root: run.root, taskId: run.log.taskId, agentId: run.log.agentId });

/** What a renderer does with a seek reply: a fresh terminal at its size, the state written into it. */
function restore(screen: ReplayScreen): ReplayTerminal {
  const t = createReplayTerminal(screen.cols, screen.rows);
  terminals.push(t);
  feedTerminal(t.term, screen.state);
  return t;
}

/** Plays frames into a terminal the way the replay pane does: resizes, then output. */
function play(t: ReplayTerminal, frames: ReplayFrames['frames']): void {
  for (const f of frames) {
    if (f.cols !== undefined && f.rows !== undefined) t.term.resize(f.cols, f.rows);
    else feedTerminal(t.term, f.text);
  }
}

/** The screen replayed from the very start to `seq`, without keyframes: the reference. */
async function reference(seq: number): Promise<string[]> {
  const screen = await seekReplay(run.log, { seq }, { keyframes: false });
  try {
    return screenText(screen.replayer.terminal.term);
  } finally {
    screen.dispose();
  }
}

describe('replay channels', () => {
  it('replay:seek returns a state that restores the screen as replaying from the start shows it', async () => {
    for (const seq of [1, Math.floor(run.lastSeq / 2), run.lastSeq]) {
      const screen = (await client.call('replay:seek', { ...ref(), seq })) as ReplayScreen;
      expect(screen.seq).toBe(seq);
      expect(screenText(restore(screen).term)).toEqual(await reference(seq));
    }
  });

  it('replay:seek later seeks start from a keyframe and replay less than the run', async () => {
    await client.call('replay:seek', { ...ref() }); // builds the keyframes on the way to the end
    const screen = (await client.call('replay:seek', { ...ref(), seq: run.lastSeq - 5 })) as ReplayScreen;
    expect(screen.keyframeSeq).not.toBeNull();
    const timeline = (await client.call('replay:timeline', ref())) as ReplayTimeline;
    expect(screen.bytesReplayed).toBeLessThan(timeline.bytes / 2);
  });

  it('a seek plus the frames after it reach the same terminal as a seek straight there', async () => {
    const from = Math.floor(run.lastSeq / 4);
    const to = Math.floor(run.lastSeq / 2);
    const start = (await client.call('replay:seek', { ...ref(), seq: from })) as ReplayScreen;
    const t = restore(start);
    let cursor = start.next;
    let done = false;
    while (!done) {
      const page = (await client.call('replay:frames', { ...ref(), from: cursor, maxBytes: 20_000 })) as ReplayFrames;
      const wanted = page.frames.filter((f) => f.seq <= to);
      play(t, wanted);
      done = wanted.length < page.frames.length || page.atEnd;
      cursor = page.next;
    }
    const direct = restore((await client.call('replay:seek', { ...ref(), seq: to })) as ReplayScreen);
    // Scrollback differs (a state keeps only the last screens of it); the screen, cursor and modes must not.
    const { normal: _a, ...played } = snapshotTerminal(t.term);
    const { normal: _b, ...seeked } = snapshotTerminal(direct.term);
    expect(screenText(t.term)).toEqual(screenText(direct.term));
    expect(played).toEqual(seeked);
  });

  it('replay:frames pages through the whole run in bounded replies, every output entry once', async () => {
    const start = (await client.call('replay:seek', { ...ref(), seq: 0 })) as ReplayScreen;
    expect(start.seq).toBe(0);
    let cursor = start.next;
    const seqs: number[] = [];
    for (;;) {
      const page = (await client.call('replay:frames', { ...ref(), from: cursor, maxBytes: 30_000 })) as ReplayFrames;
      const bytes = page.frames.reduce((n, f) => n + f.text.length, 0);
      // A reply stops at the first frame past the budget.
      expect(bytes - (page.frames.at(-1)?.text.length ?? 0)).toBeLessThan(30_000);
      seqs.push(...page.frames.map((f) => f.seq));
      cursor = page.next;
      if (page.atEnd) break;
    }
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]).toBe(1); // the started entry sets the size
    expect(seqs.at(-1)).toBeGreaterThan(run.lastSeq - 3);
  });

  it('replay:timeline is cached until the log grows', async () => {
    const first = (await client.call('replay:timeline', ref())) as ReplayTimeline;
    expect(first.lastSeq).toBe(run.lastSeq);
    expect(first.markers.length).toBeGreaterThanOrEqual(0);
    const writer = new LogWriter(run.log.file, { agentId: run.log.agentId });
    writer.append({ type: 'stderr', content: 'Traceback (most recent call last):', metadata: { level: 'error' } });
    await writer.close();
    const second = (await client.call('replay:timeline', ref())) as ReplayTimeline;
    expect(second.lastSeq).toBe(run.lastSeq + 1);
    expect(second.markers.at(-1)).toMatchObject({ seq: run.lastSeq + 1, level: 'error' });
  });

  it('refuses cursors that name a file outside the run, or a path', async () => {
    await expect(client.call('replay:frames', { ...ref(), from: { file: 'other_stream.jsonl', offset: 0 } })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(client.call('replay:frames', { ...ref(), from: { file: '../../etc/passwd', offset: 0 } })).rejects.toMatchObject({
      name: 'InvalidArgsError',
    });
    await expect(client.call('replay:seek', { ...ref(), seq: 3, time: 5 })).rejects.toMatchObject({ name: 'InvalidArgsError' });
    expect(fs.existsSync(run.log.file)).toBe(true);
  });
});
