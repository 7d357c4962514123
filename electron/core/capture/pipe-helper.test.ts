/**
 * The pipe-pane helper (resources/capture/loupe-pipe.sh) under a full disk (RELIABILITY D10): a
 * failed write must never be reported as the end of the pane's output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, waitFor, type TestWorld } from './test-support.js';

const HELPER = path.resolve('resources/capture/loupe-pipe.sh');
let world: TestWorld;

beforeEach(() => {
  world = createWorld();
});

afterEach(() => {
  world.cleanup();
});

describe('loupe-pipe.sh', () => {
  it('D10: marks no EOF when appending to the spool fails (disk full), and does when the pipe closes', async () => {
    world.tmux('new-session', '-d', '-s', 's', '-x', '80', '-y', '24', 'sh');
    const pane = world.tmux('display-message', '-p', '-t', 's', '#{pane_id}').trim();
    // A spool on a full disk: every write fails with ENOSPC, as on a filled file system.
    const full = path.join(world.root, 'full.spool');
    fs.symlinkSync('/dev/full', full);
    world.tmux('set-option', '-p', '-t', pane, '@loupe_spool', full);
    world.tmux('pipe-pane', '-O', '-t', pane, `exec /bin/sh ${HELPER} #{q:socket_path} #{q:pane_id}`);
    // tmux notices that its reader is gone when it next writes to it: keep the pane printing.
    await waitFor(
      () => {
        world.tmux('send-keys', '-t', pane, 'echo output that cannot be stored', 'Enter');
        return world.tmux('display-message', '-p', '-t', pane, '#{pane_pipe}').trim() === '0';
      },
      10_000,
      'the helper to exit',
    );
    expect(fs.existsSync(`${full}.eof`)).toBe(false);

    // A spool that can be written: closing the pipe marks the spool complete.
    const ok = path.join(world.root, 'ok.spool');
    world.tmux('set-option', '-p', '-t', pane, '@loupe_spool', ok);
    world.tmux('pipe-pane', '-O', '-t', pane, `exec /bin/sh ${HELPER} #{q:socket_path} #{q:pane_id}`);
    world.tmux('send-keys', '-t', pane, 'echo stored', 'Enter');
    await waitFor(() => fs.existsSync(ok) && fs.readFileSync(ok, 'utf8').includes('stored'), 10_000, 'output in the spool');
    world.tmux('pipe-pane', '-t', pane);
    await waitFor(() => fs.existsSync(`${ok}.eof`), 10_000, 'the EOF marker');
  });
});
