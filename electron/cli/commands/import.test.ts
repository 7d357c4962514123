import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../core/transcripts/fixtures/', import.meta.url));

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-import-cli-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('loupe import', () => {
  it('imports a folder, one line per session with the agent id first, and again adds nothing', () => {
    const first = loupe('import', FIXTURES, '--root', root);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const agents = lines.map((l) => l.split(' ')[0]).sort();
    expect(agents).toHaveLength(3);
    expect(agents[0]).toMatch(/^cast-[0-9a-f]{16}$/);
    expect(agents.slice(1)).toEqual(['claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f', 'codex-019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b']);
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
});
