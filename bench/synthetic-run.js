// A realistic synthetic agent run for the replay benches: colors, CJK, progress bars, a pager on the
// alternate screen (outputBurst), written as capture writes it. Not a bench itself (no .bench.js).
import fs from 'node:fs';
import path from 'node:path';
import { serializeEntry, formatTimestamp } from '../dist/shared/entry.js';
import { outputBurst, random } from '../dist/electron/core/replay/test-support.js';

/** Output bursts serialized per write: big writes, bounded memory. */
const BURSTS_PER_WRITE = 2000;
/** Chance per burst of a recorded resize, when asked for: a few hundred in a 1 GB run. */
const RESIZE_CHANCE = 0.0005;
/** The tail read to find the last entry of an existing log: far more than one entry. */
const TAIL_BYTES = 64 * 1024;

/**
 * Writes a run of at least `megabytes` MB of JSONL to `log.file` once, and reuses it afterwards.
 * @param {{ file: string, agentId: string }} log
 * @param {{ megabytes: number, seed: number, resizes?: boolean, terminated?: boolean }} options
 *   `resizes`: now and then a recorded resize between bursts; `terminated`: end with a
 *   terminated entry, like a finished run.
 * @returns {number} the last entry's sequence
 */
export function writeSyntheticRun(log, { megabytes, seed, resizes = false, terminated = false }) {
  const want = megabytes * 1024 * 1024;
  if (fs.existsSync(log.file) && fs.statSync(log.file).size >= want) return lastSequence(log.file);
  fs.mkdirSync(path.dirname(log.file), { recursive: true });
  const fd = fs.openSync(log.file, 'w');
  const r = random(seed);
  let size = 0;
  let seq = 0;
  let time = Date.parse('2026-01-01T00:00:00Z') * 1000;
  const entry = (type, content, metadata) => {
    seq++;
    time += 1000;
    const e = { timestamp: formatTimestamp(time), agent_id: log.agentId, type, sequence: seq, content };
    if (metadata) e.metadata = metadata;
    return serializeEntry(e);
  };
  let chunk = entry('system', 'started', { event: 'started', cols: 120, rows: 32 });
  while (size < want) {
    for (let i = 0; i < BURSTS_PER_WRITE; i++) {
      // Whole lines become entries, as capture writes them; the unterminated rest is a partial one.
      const lines = outputBurst(r, seq).split('\n');
      const rest = lines.pop();
      for (const line of lines) chunk += entry('stdout', line);
      if (rest) chunk += entry('stdout', rest, { partial: true });
      if (resizes && r() < RESIZE_CHANCE) chunk += entry('system', 'resized', { event: 'resized', cols: r() < 0.5 ? 100 : 120, rows: 32 });
    }
    const bytes = Buffer.from(chunk);
    fs.writeSync(fd, bytes);
    size += bytes.length;
    chunk = '';
  }
  if (terminated) fs.writeSync(fd, Buffer.from(entry('system', 'terminated', { event: 'terminated', exit_status: 0 })));
  fs.closeSync(fd);
  return seq;
}

function lastSequence(file) {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.min(size, TAIL_BYTES));
  fs.readSync(fd, buf, 0, buf.length, size - buf.length);
  fs.closeSync(fd);
  const lines = buf.toString('utf8').trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]).sequence;
}
