/**
 * RELIABILITY D10 end to end: the default layout, with the state folder (records, spools) and
 * the logs on one small disk, filled by the agent's own output. The capture daemon must keep
 * running, everything missing must sit behind a gap entry, and the run must not end as if it
 * were complete. A real tmpfs, so this runs as root (CI) and skips, saying why, elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/entry.js';
import { isHostRunning } from './host-lock.js';
import { runAgent } from './session.js';
import { createWorld, eventOf, readEntries, waitFor, waitForTermination, type TestWorld } from './test-support.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/loupe.js');
const LINES = 20_000;
let world: TestWorld;
let mnt: string;
let mounted = false;
let daemon: ChildProcess | null = null;

beforeAll(() => {
  world = createWorld();
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-d10-disk-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
  mounted = result.status === 0;
  if (!mounted) console.log(`D10 capture test skipped: cannot mount a tmpfs here (${result.stderr.toString().trim()})`);
});

afterAll(() => {
  daemon?.kill('SIGKILL');
  world.cleanup();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

/** Free bytes on the small disk. */
function freeBytes(): number {
  const s = fs.statfsSync(mnt);
  return s.bavail * s.bsize;
}

describe('capture on a full disk (D10)', () => {
  it('keeps capturing through a full disk, puts a gap entry at every hole, and ends the run as incomplete', async (ctx) => {
    if (!mounted) return ctx.skip();
    const stateDir = path.join(mnt, 'state');
    const root = path.join(mnt, 'root');
    fs.mkdirSync(root);
    process.env.LOUPE_STATE_DIR = stateDir;
    // Space held back, to give back once the disk is full: whatever the split between spool and
    // log when it fills, this much is free again afterwards.
    const reserve = path.join(mnt, 'reserve');
    fs.writeFileSync(reserve, Buffer.alloc(1024 * 1024));
    world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
    const pad = 'p'.repeat(150);
    const started = await runAgent({
      root,
      socket: world.socket,
      name: 'filler',
      startHost: false,
      command: [
        'sh',
        '-c',
        `tmux -L ${world.socket} wait-for d10-go; i=1; while [ $i -le ${LINES} ]; do echo "line $i ${pad}"; i=$((i+1)); done; ` +
          `tmux -L ${world.socket} wait-for -S d10-printed; tmux -L ${world.socket} wait-for d10-space; echo after-space; sleep 1`,
      ],
    });
    daemon = spawn(process.execPath, [BIN, 'daemon', '--socket', world.socket], { stdio: 'ignore', env: process.env });
    await waitFor(() => isHostRunning(world.socket), 10_000, 'the daemon');
    world.tmux('wait-for', '-S', 'd10-go');
    // About 3.2 MB of output into the 2 MB left of a 3 MB disk that also holds the spool: it fills.
    world.tmux('wait-for', 'd10-printed');
    await waitFor(() => freeBytes() < 64 * 1024, 20_000, 'the disk to fill');
    // Space comes back: what the host could not write is counted once it can write again.
    fs.rmSync(reserve);
    for (const f of fs.readdirSync(path.join(stateDir, 'sockets', world.socket))) {
      if (f.endsWith('.spool')) spawnSync('fallocate', ['--punch-hole', '--offset', '0', '--length', String(fs.statSync(path.join(stateDir, 'sockets', world.socket, f)).size), path.join(stateDir, 'sockets', world.socket, f)]);
    }
    const logs = path.dirname(started.logFile);
    for (const f of fs.readdirSync(logs)) if (f.endsWith('.gz')) fs.rmSync(path.join(logs, f));
    world.tmux('wait-for', '-S', 'd10-space');
    const entries = await waitForTermination(started.logFile, 60_000);
    if (process.env.D10_DEBUG) for (const e of entries.filter((x) => x.type === 'system' || !/^line /.test(x.content))) console.log(e.sequence, e.content.slice(0, 160), JSON.stringify(e.metadata));
    expect(daemon.exitCode).toBeNull(); // the daemon never crashed

    // Sequences continue without a hole: whatever is missing is missing as a whole entry.
    expect(entries.map((e) => e.sequence)).toEqual(entries.map((_, i) => entries[0].sequence + i));
    expect(entries.some((e) => e.content.replace(/\r$/, '') === 'after-space')).toBe(true);
    const numbered = entries
      .map((e, at) => ({ at, n: /^line (\d+) /.exec(e.content)?.[1] }))
      .filter((x): x is { at: number; n: string } => x.n !== undefined)
      .map((x) => ({ at: x.at, n: Number(x.n) }));
    const isGap = (e: LogEntry) => typeof e.metadata?.gap === 'string';
    let holes = 0;
    for (let i = 1; i < numbered.length; i++) {
      const [prev, next] = [numbered[i - 1], numbered[i]];
      if (next.n <= prev.n) continue; // restored from the pane history after a gap: may repeat
      if (next.n === prev.n + 1) continue;
      holes++;
      // A hole in the output: a gap entry stands between its two sides.
      expect(entries.slice(prev.at + 1, next.at).some(isGap), `lines ${prev.n + 1}–${next.n - 1} are missing without a gap entry`).toBe(true);
    }
    expect(holes + entries.filter(isGap).length).toBeGreaterThan(0);
    const end = entries.find((e) => eventOf(e) === 'terminated')!;
    expect(end.metadata).toMatchObject({ complete: false, level: 'warn', exit_status: 0 });
    expect(end.content).toMatch(/output is incomplete: \d+ gaps?/);
    expect(Number(end.metadata!.gaps)).toBeGreaterThanOrEqual(entries.filter(isGap).length > 0 ? 1 : 0);
  }, 120_000);
});
