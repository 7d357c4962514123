/**
 * The rough edges a first run hit (issue 12): each is one `loupe:` line naming the problem and
 * what to do, with status 2 for a usage error, and no stack trace. Needs `tsc -b` first.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LOUPE = path.resolve('bin/loupe.js');
let dir: string;
let file: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-usage-'));
  file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'not a folder');
  fs.mkdirSync(path.join(dir, '.agent-workspace'));
  // The privileged-port test runs loupe as `nobody`: it must be able to reach the root and state folder.
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'state'));
  fs.chmodSync(path.join(dir, 'state'), 0o777);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function loupe(args: string[], options: { user?: string } = {}) {
  const command = options.user ? ['runuser', '-u', options.user, '--', process.execPath, LOUPE, ...args] : [process.execPath, LOUPE, ...args];
  return spawnSync(command[0], command.slice(1), { encoding: 'utf8', cwd: dir, timeout: 20_000, env: { ...process.env, LOUPE_STATE_DIR: path.join(dir, 'state') } });
}

function expectUsageError(r: ReturnType<typeof loupe>, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^loupe: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('usage errors', () => {
  it('ls and serve refuse a --root that is a file', () => {
    expectUsageError(loupe(['ls', '--root', file]), /--root .*a-file is a file, not a folder; pass the folder that holds \.agent-workspace\//);
    const serve = loupe(['serve', '--root', file, '--port', '0']);
    expectUsageError(serve, /--root .*a-file is a file, not a folder/);
    expect(serve.stdout).toBe(''); // no URL: it never started
  });

  it('stats of an agent that is not there is a usage error, as for tail, screen and export', () => {
    expectUsageError(loupe(['stats', 'nosuchagent', '--root', dir]), /no agent or task "nosuchagent" under .*; run `loupe ls --root/);
  });

  it('serve --public-origin takes an origin only: scheme, host and port', () => {
    for (const value of ['https://loupe.example.com/loupe', 'loupe.example.com', 'ftp://loupe.example.com', 'https://user@loupe.example.com']) {
      expectUsageError(loupe(['serve', '--public-origin', value, '--root', dir, '--port', '0']), /invalid --public-origin .*: give the address the browser opens, such as https:\/\/loupe\.example\.com/);
    }
  });

  it('run without a command says to put it after --', () => {
    expectUsageError(loupe(['run', '--name', 'x']), /no command given: put it after `--`, e.g. `loupe run -- claude`/);
  });

  it('replay --from says that an entry number is accepted too', () => {
    expectUsageError(loupe(['replay', 'x', '--from', 'banana', '--root', dir]), /--from "banana" is neither an entry number nor an ISO 8601 time; use e.g. --from 1200 or --from 2026-11-21T23:54:09Z/);
  });

  it('serve on a privileged port, as a user who may not bind it, says so without a stack trace', (ctx) => {
    if (process.getuid?.() !== 0 || spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status !== 0) {
      console.log('privileged-port test skipped: needs root to run loupe as the user nobody');
      return ctx.skip();
    }
    const r = loupe(['serve', '--port', '1', '--root', dir], { user: 'nobody' });
    expect(r.stderr).not.toMatch(/the index is closed/);
    expectUsageError(r, /port 1 on 127\.0\.0\.1 needs privileges this user does not have; pass --port 1024 or above/);
  });
});
