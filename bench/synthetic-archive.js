// Generated archives of agent output for the search benches: AGENTS agents' JSONL logs of short,
// grep-like lines, one entry in RARE_EVERY carrying RARE_TERM. Written once into `root` and reused
// (a `complete` marker says the set is whole). Not a bench itself (no .bench.js).
import fs from 'node:fs';
import path from 'node:path';

export const TASK = 'TASK-20260101-120000-0a1b2c3d';
export const AGENTS = 10;
/** The rare term, and one entry in this many carries it. */
export const RARE_TERM = 'ZebraQuuxFault';
export const RARE_EVERY = 100_000;
const WORDS = ['compiling', 'src/index.ts', 'error', 'warning:', 'PASS', 'FAIL', 'test', 'collected', 'GET /api/v1/users', '200 OK', 'took', 'ms', 'npm', 'install', 'assert', 'expected', 'received', 'function', 'cache', 'hit', 'miss'];
/** Entries serialized per write: big writes, bounded memory. */
const ENTRIES_PER_WRITE = 5000;

/** The logs folder of an archive generated under `root`. */
export function archiveLogs(root) {
  return path.join(root, '.agent-workspace', TASK, 'logs');
}

/**
 * Writes `entries` entries over AGENTS agents under `root` unless that set is already there.
 * `wordsMax`: each entry has 3 to 3 + wordsMax - 1 words (more words, bigger entries).
 */
export function generateArchive(root, entries, { wordsMax = 10 } = {}) {
  if (fs.existsSync(path.join(root, 'complete'))) return;
  fs.rmSync(root, { recursive: true, force: true });
  const logs = archiveLogs(root);
  fs.mkdirSync(logs, { recursive: true });
  let seed = 1;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const perAgent = Math.ceil(entries / AGENTS);
  for (let a = 0; a < AGENTS; a++) {
    const agent = `agent-${a}`;
    const fd = fs.openSync(path.join(logs, `${agent}_stream.jsonl`), 'w');
    let ts = Date.UTC(2026, 0, 1) * 1000 + a * 7;
    for (let seq = 1; seq <= perAgent; seq += ENTRIES_PER_WRITE) {
      let chunk = '';
      for (let s = seq; s < Math.min(seq + ENTRIES_PER_WRITE, perAgent + 1); s++) {
        ts += 1 + Math.floor(rnd() * 3000);
        const n = 3 + Math.floor(rnd() * wordsMax);
        let content = '';
        for (let j = 0; j < n; j++) content += WORDS[Math.floor(rnd() * WORDS.length)] + ' ';
        if (Math.floor(rnd() * RARE_EVERY) === 0) content += `${RARE_TERM} `;
        content += Math.floor(rnd() * 1e9).toString(36);
        const millis = Math.floor(ts / 1000);
        const stamp = new Date(millis).toISOString().slice(0, 23) + String(ts % 1000).padStart(3, '0') + '+00:00';
        chunk += JSON.stringify({ timestamp: stamp, agent_id: agent, type: rnd() < 0.1 ? 'stderr' : 'stdout', sequence: s, content }) + '\n';
      }
      fs.writeSync(fd, chunk);
    }
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(root, 'complete'), '');
}

/** Installs ripgrep if it is missing (CI runs as root); whether `rg` can run. */
export function ensureRipgrep(spawnSync) {
  if (spawnSync('rg', ['--version']).status === 0) return true;
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'ripgrep'], { stdio: 'inherit' });
  return spawnSync('rg', ['--version']).status === 0;
}
