// The JSONL writer alone, in entries/s, against the 100k lines/s the JSONL design states, and
// against raw batched appends of the same bytes measured in the same run.
// LOUPE_BENCH_WRITER_ENTRIES sets the number of entries (default 1,000,000).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { header, row } from './report.js';
import { LogWriter } from '../dist/electron/core/log/writer.js';

const N = Number(process.env.LOUPE_BENCH_WRITER_ENTRIES ?? 1_000_000);
/** The JSONL stream-logging design's stated writer throughput. */
const DESIGN_LINES_PER_S = 100_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-writer-bench-'));

const contents = Array.from(
  { length: 1000 },
  (_, i) => `\u001b[32m[test]\u001b[0m case_${i} ${'.'.repeat(i % 80)} passed (${i % 97} ms)`,
);

async function timeWriter() {
  const file = path.join(dir, 'w_stream.jsonl');
  const writer = new LogWriter(file, { agentId: 'bench' });
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) writer.append({ type: 'stdout', content: contents[i % 1000] });
  await writer.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes: fs.statSync(file).size };
}

/** Baseline: the same lines pre-serialized, appended 1 MB at a time with write(2). */
function timeRawAppend(bytesPerLine) {
  const file = path.join(dir, 'raw.jsonl');
  const line = 'x'.repeat(bytesPerLine - 1) + '\n';
  const batch = Buffer.from(line.repeat(Math.max(1, Math.floor((1024 * 1024) / bytesPerLine))));
  const lines = batch.length / bytesPerLine;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT);
  const started = process.hrtime.bigint();
  for (let written = 0; written < N; written += lines) fs.writeSync(fd, batch);
  fs.closeSync(fd);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

try {
  header();
  const { seconds, bytes } = await timeWriter();
  const raw = timeRawAppend(Math.round(bytes / N));
  const rate = N / seconds;
  row('writer: entries/s', `${Math.round(rate).toLocaleString('en')}/s`, `design: ${DESIGN_LINES_PER_S.toLocaleString('en')}/s`, '>= design', rate >= DESIGN_LINES_PER_S);
  row('writer: MB/s', `${(bytes / 2 ** 20 / seconds).toFixed(1)} MB/s`, `raw append: ${(bytes / 2 ** 20 / raw).toFixed(1)} MB/s`, '', null);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
