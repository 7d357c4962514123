import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLogsDir, streamPath } from '../../core/log/paths.js';
import { LogWriter } from '../../core/log/writer.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20260101-120000-0a1b2c3d';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-tail-cli-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function makeAgent(agentId: string, count: number): Promise<string> {
  ensureLogsDir(root, TASK);
  const file = streamPath(root, TASK, agentId);
  const writer = new LogWriter(file, { agentId });
  for (let i = 1; i <= count; i++) {
    writer.append(
      i % 10 === 0
        ? { type: 'stderr', content: `\x1b[31mError: boom ${i}\x1b[0m`, metadata: { level: 'error' } }
        : { type: 'stdout', content: `step ${i}` },
    );
  }
  await writer.close();
  return file;
}

describe('loupe tail', () => {
  it('prints the last 10 entries of an agent by default, ANSI stripped', async () => {
    await makeAgent('builder', 50);
    const r = loupe('tail', '--root', root, 'builder');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/ out  step 41$/);
    expect(lines[9]).toMatch(/ err  \[error\] Error: boom 50$/);
    expect(r.stdout).not.toContain('\x1b');
  });

  it('filters by level and regex, and writes jsonl exactly as stored', async () => {
    const file = await makeAgent('builder', 50);
    const r = loupe('tail', '--root', root, '-n', '2', '--level', 'error', '--grep', 'boom [34]0', '--format', 'jsonl', 'builder');
    expect(r.status).toBe(0);
    const stored = fs.readFileSync(file, 'utf8').split('\n');
    expect(r.stdout).toBe(`${stored[29]}\n${stored[39]}\n`);
  });

  it('reads a file given by path, and writes the ansi byte stream', async () => {
    const file = await makeAgent('builder', 3);
    const r = loupe('tail', '--format', 'ansi', file);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('step 1\nstep 2\nstep 3\n');
  });

  it('reads a rotated .gz file given by path', async () => {
    const file = await makeAgent('builder', 30);
    const zlib = await import('node:zlib');
    const gz = `${file}.20260101T120000123000.gz`;
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(file)));
    const r = loupe('tail', '-n', '2', '--format', 'ansi', gz);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('step 29\n\x1b[31mError: boom 30\x1b[0m\n');
    expect(loupe('tail', '-f', gz).stderr).toMatch(/^loupe: cannot follow .*\.gz: it is a compressed rotated log/);
  });

  it('fails with one line and status 2 for an unknown agent', () => {
    const r = loupe('tail', '--root', root, 'ghost');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^loupe: no agent "ghost" in .*loupe ls/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('fails with one line and status 2 for a bad regex', async () => {
    await makeAgent('builder', 3);
    const r = loupe('tail', '--root', root, '--grep', '(unclosed', 'builder');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^loupe: invalid regex "\(unclosed": missing closing \)/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('fails with one line and status 2 for a root that is a file', () => {
    const notDir = path.join(root, 'file');
    fs.writeFileSync(notDir, 'x');
    const r = loupe('tail', '--root', notDir, 'builder');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`loupe: --root ${notDir} is a file, not a folder; pass the folder that holds .agent-workspace/\n`);
  });

  it('fails clearly for a bad type, level or count', async () => {
    await makeAgent('builder', 3);
    expect(loupe('tail', '--root', root, '--type', 'stdin', 'builder').stderr).toMatch(/^loupe: --type "stdin" is not an entry type/);
    expect(loupe('tail', '--root', root, '--level', 'loud', 'builder').stderr).toMatch(/^loupe: --level "loud" is not a level/);
    expect(loupe('tail', '--root', root, '-n', 'ten', 'builder').status).toBe(2);
  });

  it('follows with -f, then exits 0 on SIGTERM', async () => {
    const file = await makeAgent('builder', 3);
    const child = spawn(process.execPath, [BIN, 'tail', '-f', '-n', '1', '--format', 'jsonl', '--root', root, 'builder']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (cond: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out; output so far: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(() => out.split('\n').length === 2);
    const writer = new LogWriter(file, { agentId: 'builder' });
    writer.append({ type: 'stdout', content: 'live 1' });
    writer.append({ type: 'stdout', content: 'live 2' });
    writer.flush();
    await waitFor(() => out.includes('live 2'));
    await writer.close();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l).content)).toEqual(['step 3', 'live 1', 'live 2']);
  });

  it('stops quietly when stdout is closed (| head)', async () => {
    await makeAgent('builder', 2000);
    const r = spawnSync('sh', ['-c', `node ${JSON.stringify(BIN)} tail -n 2000 --root ${JSON.stringify(root)} builder | head -n 1`], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });
});
