// Export throughput per format on a large run (issue 6): MB of JSONL log exported per second,
// with redaction on (the default), beside the cost of just reading and parsing the same log.
// Size: LOUPE_BENCH_EXPORT_MB (default 1024, the 1 GB run the issue asks for).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportRun } from '../dist/electron/core/export/exportRun.js';
import { LogReader } from '../dist/electron/core/log/reader.js';
import { serializeEntry, formatTimestamp } from '../dist/shared/entry.js';
import { header, row } from './report.js';

const SIZE_MB = Number(process.env.LOUPE_BENCH_EXPORT_MB ?? 1024);
const FORMATS = (process.env.LOUPE_BENCH_EXPORT_FORMATS ?? 'jsonl,text,ansi,html,cast,replay-html').split(',');
const TASK = 'TASK-20261121-100000-0a1b2c3d';
const AGENT = 'bench-agent';

/** Agent-like output: colored status lines, plain log lines, progress bars, a rare secret. */
function lineFor(i) {
  switch (i % 8) {
    case 0: return `\x1b[1;32m✓\x1b[0m test ${i} passed in ${i % 997}ms`;
    case 1: return `INFO  processing batch ${i} of records from /srv/data/part-${i % 64}.parquet`;
    case 2: return `\x1b[33mwarning\x1b[0m: unused variable \`x${i}\` at src/module_${i % 50}.rs:${i % 400}:9`;
    case 3: return `commit 9fceb02d0ae598e95dc970b74767f19372d61af8 request ${i} id 123e4567-e89b-12d3-a456-426614174000`;
    case 4: return `progress ${i % 100}%\r`;
    case 5: return i % 4096 === 5 ? `export API_TOKEN=tok_${i}abcdef` : `  at Object.<anonymous> (/app/src/index.js:${i % 300}:17)`;
    case 6: return `\x1b[38;5;${i % 256}m256-color\x1b[0m and \x1b[38;2;${i % 256};100;200mtrue color\x1b[0m output line ${i}`;
    default: return `Tool call: edit_file path=src/file_${i % 100}.ts lines=${i % 40}`;
  }
}

function writeRun(root) {
  const dir = path.join(root, '.agent-workspace', TASK, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${AGENT}_stream.jsonl`);
  const fd = fs.openSync(file, 'w');
  const target = SIZE_MB * 1024 * 1024;
  const start = Date.UTC(2026, 10, 21, 10) * 1000;
  let written = 0;
  let seq = 0;
  let batch = serializeEntry({
    timestamp: formatTimestamp(start), agent_id: AGENT, type: 'system', sequence: ++seq,
    content: '[loupe] started', metadata: { event: 'started', cols: 120, rows: 32 },
  });
  while (written < target) {
    for (let k = 0; k < 2000; k++) {
      const content = lineFor(seq);
      const entry = { timestamp: formatTimestamp(start + seq * 1000), agent_id: AGENT, type: 'stdout', sequence: ++seq, content };
      if (content.endsWith('\r')) entry.metadata = { partial: true };
      batch += serializeEntry(entry);
    }
    fs.writeSync(fd, batch);
    written += Buffer.byteLength(batch);
    batch = '';
  }
  fs.closeSync(fd);
  return { file, bytes: fs.statSync(file).size, entries: seq };
}

async function timeIt(work) {
  global.gc?.();
  const t0 = performance.now();
  const result = await work();
  return { seconds: (performance.now() - t0) / 1000, result };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-export-'));
try {
  const run = writeRun(root);
  const mb = run.bytes / 1e6;
  console.log(`run: ${mb.toFixed(0)} MB of JSONL, ${run.entries} entries`);
  header();

  const read = await timeIt(async () => {
    let n = 0;
    for await (const batch of new LogReader(run.file).batches()) n += batch.length;
    return n;
  });
  const baselineMbps = mb / read.seconds;
  const baseline = `read+parse: ${baselineMbps.toFixed(0)} MB/s`;
  row('read and parse the log (baseline)', `${baselineMbps.toFixed(1)} MB/s`);

  const agents = [{ root, taskId: TASK, agentId: AGENT, file: run.file }];
  for (const format of FORMATS) {
    for (const redact of [true, false]) {
      const out = fs.createWriteStream('/dev/null');
      const { seconds, result } = await timeIt(() => exportRun({ agents, format, redact }, out));
      const label = `export ${format}${redact ? '' : ' --no-redact'}`;
      row(label, `${(mb / seconds).toFixed(1)} MB/s`, baseline, '', null);
      if (redact && result.redactions !== null && Object.keys(result.redactions).length === 0) {
        throw new Error('the bench run holds secrets, but none were redacted');
      }
    }
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
