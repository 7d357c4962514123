/** `loupe export` through the compiled CLI (`npm test` builds first). */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempRoot, readJsonl, TEST_TASK_ID, writeTestRun } from '../../core/export/testRuns.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const AWS_KEY = 'AKIA' + 'IOSFODNN7EXAMPLE';

let root: string;
beforeAll(() => {
  root = makeTempRoot();
  writeTestRun(root, 'agent-a', [
    { content: '\x1b[32mhello\x1b[0m' },
    { content: `export AWS_ACCESS_KEY_ID=${AWS_KEY}` },
    { type: 'stderr', content: 'Error: boom', metadata: { level: 'error' } },
  ]);
  writeTestRun(root, 'agent-b', [{ content: 'from b' }]);
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function loupe(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), 'export', ...args, '--root', root], { encoding: 'buffer', cwd: root });
}

describe('loupe export', () => {
  it('writes to stdout with -o - and prints a one-line summary on stderr', () => {
    const r = loupe('agent-a', '--format', 'text', '-o', '-');
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe('hello\nexport AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]\nError: boom\n');
    expect(r.stderr.toString()).toBe(
      `exported 4 entries of 1 agent as text to stdout: ${r.stdout.length} B; 1 secret redacted (aws-access-key 1)\n`,
    );
  });

  it('keeps secrets with --no-redact and says so', () => {
    const r = loupe('agent-a', '--format', 'ansi', '--no-redact', '-o', '-');
    expect(r.stdout.toString()).toContain(AWS_KEY);
    expect(r.stderr.toString()).toMatch(/; redaction off\n$/);
  });

  it('exports every agent of a task, gzipped, to a file', () => {
    const out = path.join(root, 'task.jsonl.gz');
    const r = loupe(TEST_TASK_ID, '--format', 'jsonl', '--gzip', '-o', out);
    expect(r.status).toBe(0);
    const entries = readJsonl(zlib.gunzipSync(fs.readFileSync(out)).toString('utf8'));
    expect([...new Set(entries.map((e) => e.agent_id))]).toEqual(['agent-a', 'agent-b']);
    expect(r.stderr.toString()).toMatch(/^exported 6 entries of 2 agents as jsonl \(gzip\) to .*task\.jsonl\.gz: /);
  });

  it('applies the slice options', () => {
    const r = loupe('agent-a', '--format', 'jsonl', '--from-seq', '2', '--to-seq', '4', '--level', 'error', '-o', '-');
    expect(readJsonl(r.stdout.toString()).map((e) => e.sequence)).toEqual([4]);
    const grep = loupe('agent-a', '--format', 'jsonl', '--grep', 'HEL+O', '-i', '-o', '-');
    expect(readJsonl(grep.stdout.toString()).map((e) => e.sequence)).toEqual([2]);
  });

  it('uses redact.patterns from loupe.config.json', () => {
    fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ redact: { patterns: ['fr[o]m b'] } }));
    try {
      const r = loupe('agent-b', '--format', 'text', '-o', '-');
      expect(r.stdout.toString()).toBe('[REDACTED:custom]\n');
    } finally {
      fs.rmSync(path.join(root, 'loupe.config.json'));
    }
  });

  it('stops quietly when the reader of stdout goes away (loupe export … -o - | head)', async () => {
    writeTestRun(root, 'chatty', Array.from({ length: 50_000 }, (_, i) => ({ content: `line ${i} ${'x'.repeat(80)}` })), 'TASK-20261121-100001-0a1b2c3d');
    const child = spawn(process.execPath, [path.join(REPO, 'bin/loupe.js'), 'export', 'chatty', '--format', 'text', '-o', '-', '--root', root]);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  it.each([
    [['nobody', '--format', 'text', '-o', '-'], /^loupe: no agent "nobody" in .*; run `loupe ls --root .*` to list agents and tasks\n$/],
    [['agent-a', '--format', 'text', '--from-seq', 'x', '-o', '-'], /^loupe: --from-seq must be a sequence number \(1 or more\), not "x"\n$/],
    [['agent-a', '--format', 'text', '--since', 'yesterday', '-o', '-'], /^loupe: invalid time "yesterday": use an ISO 8601 time/],
    [['agent-a', '--format', 'text', '--grep', '(', '-o', '-'], /^loupe: invalid regex "\(": /],
    [[TEST_TASK_ID, '--format', 'cast', '-o', '-'], /^loupe: a \.cast file holds one terminal, and this task has 2 agents: /],
    [['agent-a', '--format', 'text', '-o', '/nonexistent-dir/x.txt'], /^loupe: cannot write \/nonexistent-dir\/x\.txt: its folder does not exist/],
  ])('refuses %j with a clear message and status 2', (args, message) => {
    const r = loupe(...args);
    expect(r.stderr.toString()).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stdout.length).toBe(0);
  });
});
