/**
 * A recording made by the real asciinema client (Debian's `asciinema rec`, under script(1)'s pty)
 * imports byte-exact: `loupe tail --format ansi` prints what `asciinema cat` prints, also after
 * the recording grew (`asciinema rec --append`). Needs the compiled CLI (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));

let dir: string;
let root: string;
let env: NodeJS.ProcessEnv;

/** Runs `command` under a pty (asciinema insists on a terminal); its output. */
function underPty(command: string): Buffer {
  const r = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { env, input: '', cwd: dir, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${command} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function loupe(...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`loupe ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Records `script` (a shell script) into rec.cast, appending when asked. */
function record(script: string, append = false): string {
  const file = path.join(dir, append ? 'more.sh' : 'first.sh');
  fs.writeFileSync(file, script);
  underPty(`asciinema rec --quiet ${append ? '--append ' : ''}--command ${JSON.stringify(`sh ${file}`)} rec.cast`);
  return path.join(dir, 'rec.cast');
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-asciinema-'));
  root = path.join(dir, 'root');
  fs.mkdirSync(root);
  env = { ...process.env, HOME: path.join(dir, 'home'), LOUPE_STATE_DIR: path.join(dir, 'state') };
  delete env.XDG_CONFIG_HOME;
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a recording made by asciinema rec', () => {
  it('tails as asciinema cat prints it, and again once it grew', () => {
    const cast = record(
      [
        `printf '\\033[1;32mPASS\\033[0m colors \\033[38;5;208m256\\033[0m \\033[38;2;10;200;30mtrue\\033[0m\\n'`,
        `for i in 1 2 3; do printf 'progress %s/3\\r' $i; done; printf '\\n'`,
        `printf 'wide: 日本語 emoji 🎉 tab\\there\\n'`,
        `head -c 100000 /dev/zero | tr '\\0' 'y'; printf '\\n'`,
        `printf 'Error: something failed\\n'`,
        `printf 'no newline at the end'`,
      ].join('\n'),
    );
    const [line] = loupe('import', cast, '--root', root).trim().split('\n');
    const agent = line.split(' ')[0];
    expect(line).toMatch(/^cast-[0-9a-f]{16} +asciicast imported \d+ entries/);
    const tail = () => Buffer.from(loupe('tail', '--format', 'ansi', '-n', '1000000', '--root', root, agent), 'utf8');
    const played = underPty(`asciinema cat ${cast}`);
    expect(played.toString('utf8')).toContain('progress 3/3');
    expect(tail()).toEqual(played);

    record(`printf 'appended \\033[7mlater\\033[0m\\n'`, true);
    expect(loupe('import', cast, '--root', root)).toMatch(new RegExp(`^${agent} +asciicast continued: \\d+ new entries`));
    const grown = underPty(`asciinema cat ${cast}`);
    expect(grown.toString('utf8')).toContain('appended');
    expect(tail()).toEqual(grown);
  });
});
