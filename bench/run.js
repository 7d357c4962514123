#!/usr/bin/env node
// `npm run bench [-- NAME…]`: runs each bench/<name>.bench.js in its own process, one after another.
// Each prints its figures beside the baseline measured in the same run (SPEC §10).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { printUptime } from './report.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
console.log(`Loupe benchmarks — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}`);
// The load average, before and after the whole run (each bench also prints its own).
printUptime('before all');
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file.replace('.bench.js', '')} ==`);
  const r = spawnSync(process.execPath, ['--expose-gc', `${dir}${file}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
printUptime('after all');
process.exitCode = failed === 0 ? 0 : 1;
