import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEntryLine } from '../../../shared/entry.js';
import { listAgentLogs } from '../../core/log/paths.js';
import { withImportLock } from '../../core/transcripts/importLock.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../core/transcripts/fixtures/', import.meta.url));

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-import-cli-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** `loupe ARGS` in the background: its exit status and output once it ends. */
function loupeAsync(args: string[], onStderr?: (text: string) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr);
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** A Claude Code transcript of `n` user messages. */
function bigTranscript(file: string, n: number): void {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: 'user', sessionId: 'big-session', cwd: '/tmp', uuid: `u${i}`, timestamp: new Date(1_762_000_000_000 + i * 1000).toISOString(), message: { role: 'user', content: `message ${i} ${'x'.repeat(200)}` } }),
  );
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

function loupe(...args: string[]) {
  return loupeWith(process.env, ...args);
}

function loupeWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('loupe import', () => {
  it('imports a folder, one line per session with the agent id first, and again adds nothing', () => {
    const first = loupe('import', FIXTURES, '--root', root);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const agents = lines.map((l) => l.split(' ')[0]).sort();
    expect(agents).toHaveLength(4);
    expect(agents[0]).toMatch(/^cast-[0-9a-f]{16}$/);
    expect(agents.slice(1)).toEqual([
      'claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f',
      'claude-stream-4b9d2e61-8c3a-4f57-b1e0-6a2f9c8d7e15',
      'codex-019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b',
    ]);
    expect(lines.every((l) => l.includes(' imported '))).toBe(true);
    const again = loupe('import', FIXTURES, '--root', root);
    expect(again.stdout.trim().split('\n').every((l) => l.includes('up to date'))).toBe(true);
  });

  it('reports tokens and cost per run in stats --json', () => {
    loupe('import', path.join(FIXTURES, 'codex-rollout.jsonl'), '--root', root);
    const stats = loupe('stats', '--json', '--root', root);
    expect(stats.status).toBe(0);
    const [run] = JSON.parse(stats.stdout) as { tokens: unknown; costUsd: number; status: string }[];
    expect(run).toMatchObject({ tokens: { input: 5000, output: 500, cacheRead: 20000, cacheWrite: 0 }, status: 'ended' });
    expect(run.costUsd).toBeGreaterThan(0);
    // The table has the same figures: all tokens, and the cost in dollars.
    const table = loupe('stats', '--root', root).stdout.split('\n');
    expect(table[0]).toMatch(/ TOKENS +COST +LINKED$/);
    expect(table[1]).toMatch(/ 25500 +\$\d+\.\d{2,4} +-$/);
  });

  it('prices a model with the root\'s own prices from loupe.config.json', () => {
    loupe('import', path.join(FIXTURES, 'codex-rollout.jsonl'), '--root', root);
    // $1 per million of every kind: 25,500 tokens cost $0.0255.
    const dollar = { input: 1, output: 1, cacheRead: 1, cacheWrite: 1 };
    fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ prices: { 'gpt-5': dollar, 'gpt-5-codex': dollar } }));
    const [run] = JSON.parse(loupe('stats', '--json', '--root', root).stdout) as { costUsd: number }[];
    expect(run.costUsd).toBeCloseTo(0.0255, 6);
  });

  it('exits 2 for a path that does not exist and 1 for a file it cannot read as a session', () => {
    const missing = loupe('import', path.join(root, 'nope.jsonl'), '--root', root);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^loupe: .*nope\.jsonl does not exist/);
    const notes = path.join(root, 'notes.jsonl');
    fs.writeFileSync(notes, '{"hello":"world"}\n');
    const bad = loupe('import', notes, '--root', root);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^loupe: .*notes\.jsonl is not a Claude Code transcript/);
  });

  it('lets two imports of one session run at once without writing it twice', async () => {
    const file = path.join(root, 'big.jsonl');
    bigTranscript(file, 20_000);
    const results = await Promise.all([1, 2, 3].map(() => loupeAsync(['import', file, '--root', root])));
    expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(results.filter((r) => r.stdout.includes(' imported 20000 entries'))).toHaveLength(1);
    const logs = listAgentLogs(root);
    expect(logs).toHaveLength(1);
    const sequences = fs
      .readFileSync(logs[0].file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const p = parseEntryLine(l);
        if (!p.ok) throw new Error(p.error);
        return p.entry.sequence;
      });
    expect(sequences).toEqual(Array.from({ length: 20_001 }, (_, i) => i + 1));
  });

  it('waits while another importer holds the root, and imports once it is done', async () => {
    const file = path.join(FIXTURES, 'claude-session.jsonl');
    let release = () => {};
    let cli: ReturnType<typeof loupeAsync> | undefined;
    await withImportLock(root, () => {
      return new Promise<void>((resolve) => {
        release = resolve;
        cli = loupeAsync(['import', file, '--root', root], (stderr) => {
          if (stderr.includes('waiting for another import')) {
            expect(listAgentLogs(root)).toHaveLength(0);
            release();
          }
        });
      });
    });
    const result = await cli!;
    expect(result.stderr).toBe(`loupe: waiting for another import into ${root} to finish\n`);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^claude-7f3c2a10-\S+ +claude imported \d+ entries/);
  });

  it('imports from the default homes (HOME, CODEX_HOME) with no PATH, and continues what grew', () => {
    const env = { ...process.env, HOME: path.join(root, 'home'), CODEX_HOME: path.join(root, 'codex') };
    const into = path.join(root, 'archive');
    fs.mkdirSync(into);
    expect(loupeWith(env, 'import', '--root', into)).toMatchObject({ status: 0, stdout: '', stderr: expect.stringMatching(/^loupe: nothing to import: neither .*home\/\.claude\/projects nor .*codex\/sessions exists/) });
    const transcript = path.join(env.HOME, '.claude', 'projects', '-home-dev-proj', 'session.jsonl');
    const rollout = path.join(env.CODEX_HOME, 'sessions', '2025', '11', '02', 'rollout-2025-11-02T10-00-00-x.jsonl');
    fs.mkdirSync(path.dirname(transcript), { recursive: true });
    fs.mkdirSync(path.dirname(rollout), { recursive: true });
    const claude = fs.readFileSync(path.join(FIXTURES, 'claude-session.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(transcript, claude.slice(0, 4).join('\n') + '\n');
    fs.copyFileSync(path.join(FIXTURES, 'codex-rollout.jsonl'), rollout);
    const first = loupeWith(env, 'import', '--root', into);
    expect(first.status).toBe(0);
    expect(first.stdout.trim().split('\n').map((l) => l.split(/ +/).slice(0, 3).join(' '))).toEqual([
      'claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f claude imported',
      'codex-019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b codex imported',
    ]);
    fs.writeFileSync(transcript, claude.join('\n'));
    const second = loupeWith(env, 'import', '--root', into);
    expect(second.stdout).toMatch(/^claude-7f3c2a10-\S+ +claude continued: \d+ new entries/);
    expect(second.stdout).toMatch(/\ncodex-019a4b2c-\S+ +codex up to date/);
  });
});
