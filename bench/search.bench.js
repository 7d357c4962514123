// Search over generated entries (SPEC §10; LOUPE_BENCH_SEARCH_ENTRIES, default 10 M): time to the
// first 100 hits and to the total count, for a rare term, a common term and a regex, beside
// ripgrep over the same JSONL in the same run. The generated logs and index are cached in bench/out/.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { row, header } from './report.js';
import { archiveLogs, ensureRipgrep, generateArchive, RARE_TERM } from './synthetic-archive.js';
import { Indexer } from '../dist/electron/core/index/indexer.js';
import { findHits, countMatches } from '../dist/electron/core/search/query.js';

const ENTRIES = Number(process.env.LOUPE_BENCH_SEARCH_ENTRIES ?? 10_000_000);
const out = fileURLToPath(new URL(`./out/search-${ENTRIES}/`, import.meta.url));
const logs = archiveLogs(out);

/** ripgrep: milliseconds until 100 matching lines have arrived (or it ends), and for the full count. */
function rgFirst100(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn('rg', [...args, logs]);
    let lines = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(performance.now() - started);
      child.kill();
    };
    child.stdout.on('data', (d) => {
      for (const b of d) if (b === 10) lines++;
      if (lines >= 100) finish();
    });
    child.on('exit', finish);
  });
}

function rgCount(args) {
  const started = performance.now();
  spawnSync('rg', ['--count-matches', ...args, logs], { maxBuffer: 1 << 26 });
  return performance.now() - started;
}

function time(fn) {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

generateArchive(out, ENTRIES);
const indexer = new Indexer(out);
const indexing = time(() => indexer.indexPending());
if (indexing.value.entries > 0) console.log(`(indexed ${indexing.value.entries} entries in ${(indexing.ms / 1000).toFixed(1)} s; cached for the next run)`);
const hasRg = ensureRipgrep(spawnSync);
header();
const cases = [
  { what: 'rare term', query: { text: RARE_TERM }, rg: ['-i', '-F', RARE_TERM] },
  { what: 'common term', query: { text: 'error' }, rg: ['-i', '-F', 'error'] },
  { what: 'regex', query: { text: 'FAIL.*took \\d+', regex: true }, rg: ['FAIL.*took \\d+'] },
];
for (const c of cases) {
  // The first query in a process also pays for warming up the JIT (re2js for regexes, a few hundred ms
  // under load); the app and the daemon are long-lived, so the repeat is the figure that counts for them.
  const cold = time(() => findHits(indexer.db, { ...c.query, limit: 100 }));
  const first = time(() => findHits(indexer.db, { ...c.query, limit: 100 }));
  const count = time(() => countMatches(indexer.db, c.query));
  const rgFirst = hasRg ? await rgFirst100(c.rg) : NaN;
  const rgTotal = hasRg ? rgCount(c.rg) : NaN;
  const speedup = rgFirst / first.ms;
  row(
    `${c.what}: first 100 hits (${ENTRIES / 1e6} M entries)`,
    `${first.ms.toFixed(1)} ms`,
    hasRg ? `rg: ${rgFirst.toFixed(0)} ms (${speedup.toFixed(0)}x)` : 'rg: not installed',
    '<= 50 ms, >= 100x rg',
    first.ms <= 50 && speedup >= 100,
  );
  row(`${c.what}: first 100, first query of process`, `${cold.ms.toFixed(1)} ms`, '');
  row(`${c.what}: total count (${count.value.total})`, `${count.ms.toFixed(0)} ms`, hasRg ? `rg --count-matches: ${rgTotal.toFixed(0)} ms` : '');
}
indexer.dispose();
