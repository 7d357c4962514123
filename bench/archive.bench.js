// Archive scale (issue 15): `loupe reindex` end to end and `loupe search` for a rare term at the
// CLI, over an archive of LOUPE_BENCH_ARCHIVE_ENTRIES entries (default 12 M, about 2 GB of JSONL),
// beside `rg` for the same term over the same JSONL in the same run. Goals (SPEC §10): reindex
// ≥ 50 MB/s with screen lines; search faster than `rg` at every size ≥ 1 GB.
// The archive is generated once into LOUPE_BENCH_CACHE (default /tmp/loupe-bench-cache, outside
// the repo: it is big) and reused; small sizes (e.g. 200000) run in seconds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, row, timeProcess } from './report.js';
import { indexPath } from '../dist/electron/core/index/schema.js';
import { archiveLogs, ensureRipgrep, generateArchive, RARE_TERM } from './synthetic-archive.js';

const ENTRIES = Number(process.env.LOUPE_BENCH_ARCHIVE_ENTRIES ?? 12_000_000);
const SEARCH_RUNS = Number(process.env.LOUPE_BENCH_ARCHIVE_RUNS ?? 5);
const REINDEX_GOAL_MBS = 50;
const cache = process.env.LOUPE_BENCH_CACHE ?? path.join(os.tmpdir(), 'loupe-bench-cache');
const root = path.join(cache, `archive-${ENTRIES}`);
const loupe = fileURLToPath(new URL('../bin/loupe.js', import.meta.url));

const generating = performance.now();
generateArchive(root, ENTRIES, { wordsMax: 14 });
const logs = archiveLogs(root);
const bytes = fs.readdirSync(logs).reduce((sum, f) => sum + fs.statSync(path.join(logs, f)).size, 0);
console.log(`archive: ${root}, ${ENTRIES} entries, ${(bytes / 1e6).toFixed(0)} MB of JSONL (ready in ${((performance.now() - generating) / 1000).toFixed(0)} s)`);
const hasRg = ensureRipgrep(spawnSync);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-archive-'));
const env = { ...process.env, LOUPE_STATE_DIR: state };

header();
const reindex = timeProcess(process.execPath, [loupe, 'reindex', '--root', root], { env });
const mbs = bytes / 1e6 / (reindex.wallMs / 1000);
row(`loupe reindex (${(bytes / 1e6).toFixed(0)} MB, ${ENTRIES / 1e6} M entries)`, `${mbs.toFixed(1)} MB/s`, `${(reindex.wallMs / 1000).toFixed(1)} s; CPU ${(reindex.cpuMs / 1000).toFixed(1)} s`, `>= ${REINDEX_GOAL_MBS} MB/s`, mbs >= REINDEX_GOAL_MBS);
row('  index size / JSONL size', `${(fs.statSync(indexPath(root)).size / bytes).toFixed(2)}x`, '');
const search = timeProcess(process.execPath, [loupe, 'search', RARE_TERM, '--root', root], { runs: SEARCH_RUNS, env });
const rg = hasRg ? timeProcess('rg', ['-i', '-F', RARE_TERM, logs], { runs: SEARCH_RUNS, env, okStatus: [0, 1] }) : null;
row(
  `loupe search, rare term (fastest of ${SEARCH_RUNS})`,
  `${search.wallMs.toFixed(0)} ms`,
  rg ? `rg: ${rg.wallMs.toFixed(0)} ms (CPU ${rg.cpuMs.toFixed(0)} ms)` : 'rg: not installed',
  'faster than rg',
  rg ? search.wallMs < rg.wallMs : null,
);
row('  CPU time of loupe search', `${search.cpuMs.toFixed(0)} ms`, '');
fs.rmSync(state, { recursive: true, force: true });
