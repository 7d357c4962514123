import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryTerminalText } from '../../../shared/entry.js';
import { screenText } from '../../../shared/terminal-state.js';
import { readAllEntries } from '../../core/log/reader.js';
import { LogWriter } from '../../core/log/writer.js';
import { seekReplay } from '../../core/replay/seek.js';
import { createReplayTerminal, feedTerminal } from '../../core/replay/terminal.js';
import { writeSyntheticRun, type SyntheticRun } from '../../core/replay/test-support.js';
import { createWorld, waitFor, type TestWorld } from '../../core/capture/test-support.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');

describe('loupe replay --speed 0', () => {
  let r: SyntheticRun;
  beforeAll(async () => {
    r = await writeSyntheticRun({ seed: 11, bytes: 20_000, resizes: false });
  });
  afterAll(() => r.dispose());

  it('writes the run byte stream at once, exactly', async () => {
    const { stdout } = await run(process.execPath, [LOUPE, 'replay', 'agent-1', '--speed', '0', '--root', r.root], { maxBuffer: 64 * 1024 * 1024 });
    const entries = (await readAllEntries(r.log.file)).map((e) => e.entry);
    expect(stdout).toBe(entries.map(entryTerminalText).join(''));
  });

  it('plays a slice: --from restores the screen before it, --to stops after it', async () => {
    const from = Math.floor(r.lastSeq / 3);
    const to = Math.floor((2 * r.lastSeq) / 3);
    const { stdout } = await run(process.execPath, [LOUPE, 'replay', 'agent-1', '--speed', '0', '--from', String(from), '--to', String(to), '--root', r.root], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const expected = await seekReplay(r.log, { seq: to }, { keyframes: false });
    const t = createReplayTerminal(expected.replayer.cols, expected.replayer.rows);
    try {
      feedTerminal(t.term, stdout);
      expect(screenText(t.term)).toEqual(screenText(expected.replayer.terminal.term));
    } finally {
      t.dispose();
      expected.dispose();
    }
  });

  it('drops clipboard writes, title changes and terminal queries from the recording', async () => {
    const w = new LogWriter(r.log.file, { agentId: 'agent-1' });
    w.append({ type: 'stdout', content: 'A\x1b]52;c;ZXZpbA==\x07B\x1b]0;<b>title</b>\x07C\x1b[6nD\x1b[cE' });
    await w.close();
    const { stdout } = await run(process.execPath, [LOUPE, 'replay', 'agent-1', '--speed', '0', '--from', String(r.lastSeq + 1), '--root', r.root]);
    expect(stdout.endsWith('ABCDE\n')).toBe(true);
  });

  it('refuses a bad --speed and a bad --from with one line and status 2', async () => {
    for (const [args, message] of [
      [['--speed', 'fast'], /^loupe: --speed "fast" is not a speed/],
      [['--from', 'noon'], /^loupe: --from "noon" is neither an entry number nor an ISO 8601 time/],
      [['--idle-limit', '0'], /^loupe: --idle-limit "0" is not a number of seconds/],
    ] as const) {
      const err = await run(process.execPath, [LOUPE, 'replay', 'agent-1', '--root', r.root, ...args]).catch((e) => e);
      expect(err.code).toBe(2);
      expect(err.stderr).toMatch(message);
      expect(err.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('loupe replay in a real terminal', () => {
  let world: TestWorld;
  let r: SyntheticRun;
  beforeAll(async () => {
    world = createWorld();
    // Timestamps 10 ms apart: about 20 s of playback at speed 1, far longer than the test needs.
    r = await writeSyntheticRun({ seed: 5, bytes: 40_000, resizes: false });
  });
  afterAll(() => {
    world.cleanup();
    r.dispose();
  });

  it('plays with keys in raw mode, quits on q, and gives the terminal back in cooked mode', async () => {
    const out = path.join(r.root, 'stty.txt');
    const cmd = `${process.execPath} ${LOUPE} replay agent-1 --root ${r.root}; stty -a > ${out}; echo REPLAY-ENDED; exec sleep 600`;
    world.tmux('new-session', '-d', '-s', 'replay', '-x', '100', '-y', '30', cmd);
    const pane = () => world.tmux('capture-pane', '-p', '-t', 'replay');
    // The run's first screenfuls appear, then a pause (space) holds it, then q quits.
    await waitFor(() => /\$ ls --color=always|Traceback|line \d+ of the build|256-color/.test(pane()), 30_000, 'replay output in the pane');
    world.tmux('send-keys', '-t', 'replay', ' ');
    world.tmux('send-keys', '-t', 'replay', 'q');
    await waitFor(() => pane().includes('REPLAY-ENDED'), 30_000, 'the replay to quit');
    const stty = fs.readFileSync(out, 'utf8');
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/);
    // The cursor is shown again and the pane left any alternate screen the run was in.
    expect(world.tmux('display-message', '-p', '-t', 'replay', '#{cursor_flag} #{alternate_on}').trim()).toBe('1 0');
  });
});
