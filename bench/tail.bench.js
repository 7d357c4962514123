// `tail -n 100` on a big JSONL log (SPEC §10: ≤ 2× GNU `tail -n 100`), end to end through the CLI
// and through the core function, each beside GNU tail measured in the same run.
// LOUPE_BENCH_TAIL_MB sets the log size (default 1024 MB, as the issue asks).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, percentile, row } from './report.js';
import { tailEntries } from '../dist/electron/core/log/tail.js';
import { compileUserRegex } from '../dist/electron/core/regex/userRegex.js';

const MB = Number(process.env.LOUPE_BENCH_TAIL_MB ?? 1024);
/** Enough runs for a stable median without taking minutes. */
const RUNS = Number(process.env.LOUPE_BENCH_TAIL_RUNS ?? 15);
const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = path.join(here, 'out');
const file = path.join(outDir, `tail-${MB}mb_stream.jsonl`);
const bin = path.join(here, '..', 'bin', 'loupe.js');

/** Writes a realistic log once (lines of 100-400 bytes, ANSI, some errors) and reuses it. */
function generate() {
  const want = MB * 1024 * 1024;
  if (fs.existsSync(file) && fs.statSync(file).size >= want) return;
  fs.mkdirSync(outDir, { recursive: true });
  const fd = fs.openSync(file, 'w');
  let size = 0;
  let seq = 0;
  const base = Date.parse('2026-01-01T00:00:00Z');
  while (size < want) {
    let chunk = '';
    for (let i = 0; i < 10_000; i++) {
      seq++;
      const ts = new Date(base + seq).toISOString().replace('Z', '123+00:00');
      const error = seq % 997 === 0;
      const content = error
        ? `\u001b[31mTraceback (most recent call last):\u001b[0m File "app.py", line ${seq % 300}`
        : `\u001b[32m[build]\u001b[0m compiling module_${seq % 5000}.ts ${'.'.repeat(seq % 250)} ok (${seq % 97} ms)`;
      chunk +=
        JSON.stringify({
          timestamp: ts,
          agent_id: 'bench',
          type: error ? 'stderr' : 'stdout',
          sequence: seq,
          content,
          ...(error ? { metadata: { level: 'error' } } : {}),
        }) + '\n';
    }
    const buf = Buffer.from(chunk);
    fs.writeSync(fd, buf);
    size += buf.length;
  }
  fs.closeSync(fd);
}

function timeProcess(cmd, args) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  }
  return percentile(times, 50);
}

async function timeCore(options) {
  const times = [];
  for (let i = 0; i < RUNS * 4; i++) {
    const started = process.hrtime.bigint();
    const got = await tailEntries(file, options);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (got.entries.length !== options.n) throw new Error(`expected ${options.n} entries, got ${got.entries.length}`);
  }
  return percentile(times, 50);
}

const ms = (v) => `${v.toFixed(2)} ms`;

generate();
console.log(`log: ${file} (${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MB), median of ${RUNS} runs`);
header();
const gnu = timeProcess('tail', ['-n', '100', file]);
const nodeStart = timeProcess(process.execPath, ['-e', '0']);
const cli = timeProcess(process.execPath, [bin, 'tail', '-n', '100', '--format', 'jsonl', file]);
const cliText = timeProcess(process.execPath, [bin, 'tail', '-n', '100', file]);
const core = await timeCore({ n: 100 });
row('tail -n 100, core tailEntries()', ms(core), `GNU tail: ${ms(gnu)}`, '<= 2x GNU tail', core <= 2 * gnu);
row('tail -n 100, CLI end to end (jsonl)', ms(cli), `GNU tail: ${ms(gnu)}`, '<= 2x GNU tail', cli <= 2 * gnu);
row('tail -n 100, CLI end to end (text)', ms(cliText), `GNU tail: ${ms(gnu)}`, '<= 2x GNU tail', cliText <= 2 * gnu);
row('  of which: node startup alone', ms(nodeStart), '`node -e 0`', '', null);
row('  CLI minus node startup', ms(cli - nodeStart), `GNU tail: ${ms(gnu)}`, '<= 2x GNU tail', cli - nodeStart <= 2 * gnu);

// A filtered tail reads back until it has N matches (errors are 1 line in 997).
const grep = timeProcess('sh', ['-c', `tac '${file}' | grep -m 100 Traceback > /dev/null`]);
const filtered = await timeCore({ n: 100, filter: { regex: compileUserRegex('Traceback') } });
row('filtered tail (100 × Traceback), core', ms(filtered), `tac | grep -m 100: ${ms(grep)}`, '', null);
