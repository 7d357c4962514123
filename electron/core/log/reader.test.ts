import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { LogReader, readAllEntries, type CorruptLine } from './reader.js';
import { LogWriter } from './writer.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-reader-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function entry(sequence: number, content = `line ${sequence}`): LogEntry {
  return { timestamp: '2026-01-01T00:00:00.000001+00:00', agent_id: 'agent', type: 'stdout', sequence, content };
}

function writeLog(file: string, count: number, content?: (i: number) => string): string {
  let text = '';
  for (let i = 1; i <= count; i++) text += serializeEntry(entry(i, content?.(i)));
  fs.writeFileSync(file, text);
  return text;
}

describe('LogReader', () => {
  it('reads every entry with its offset, length, line and line number', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    const text = writeLog(file, 50);
    const entries = await readAllEntries(file);
    expect(entries.map((e) => e.entry.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const lines = text.split('\n');
    for (const [i, e] of entries.entries()) {
      expect(e.line).toBe(lines[i]);
      expect(text.slice(e.offset, e.offset + e.length)).toBe(lines[i]);
      expect(e.lineNumber).toBe(i + 1);
    }
  });

  it('reads lines longer than a read chunk and multi-byte text across chunk edges', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    const big = 'é日😀'.repeat(300_000); // ~2.7 MB of UTF-8 in one line
    writeLog(file, 3, (i) => (i === 2 ? big : `x${i}`));
    const entries = await readAllEntries(file);
    expect(entries.map((e) => e.entry.content)).toEqual(['x1', big, 'x3']);
  });

  it('resumes from an offset and stops at the end of the complete lines', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    writeLog(file, 10);
    const all = await readAllEntries(file);
    const from = all[6].offset;
    const rest = await readAllEntries(file, { offset: from, firstLineNumber: 7 });
    expect(rest.map((e) => e.entry.sequence)).toEqual([7, 8, 9, 10]);
    expect(rest[0].lineNumber).toBe(7);
  });

  it('skips a torn last line and reports where the complete part ends (D2)', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    const text = writeLog(file, 5);
    const half = serializeEntry(entry(6)).slice(0, 30);
    fs.appendFileSync(file, half);
    const reader = new LogReader(file);
    const seen: number[] = [];
    for await (const e of reader) seen.push(e.entry.sequence);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(reader.completeEnd).toBe(Buffer.byteLength(text));
    expect(reader.tornBytes).toBe(30);
    expect(reader.corrupt).toEqual([]);

    // Once the line is complete, reading from completeEnd picks it up.
    fs.appendFileSync(file, serializeEntry(entry(6)).slice(30));
    const more = await readAllEntries(file, { offset: reader.completeEnd });
    expect(more.map((e) => e.entry.sequence)).toEqual([6]);
  });

  it('skips zero bytes appended after the last line (D2)', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    writeLog(file, 3);
    fs.appendFileSync(file, Buffer.alloc(4096));
    const reader = new LogReader(file);
    const entries = [];
    for await (const e of reader) entries.push(e);
    expect(entries).toHaveLength(3);
    expect(reader.corrupt).toEqual([]);
  });

  it('reports corrupt lines with their numbers and keeps reading after flipped bytes (D8)', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    const text = writeLog(file, 2000);
    const bytes = Buffer.from(text);
    // Flip one structural byte in every 97th line: the first byte ('{' becomes something else).
    const lineStarts = [0];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a && i + 1 < bytes.length) lineStarts.push(i + 1);
    const damaged = new Set<number>();
    for (let ln = 5; ln < lineStarts.length; ln += 97) {
      bytes[lineStarts[ln]] ^= 0xff;
      damaged.add(ln + 1);
    }
    // And random bytes (never newlines) flipped elsewhere, anywhere in a line.
    let seed = 42;
    for (let k = 0; k < 40; k++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const at = seed % bytes.length;
      if (bytes[at] === 0x0a || (bytes[at] ^ 0x5a) === 0x0a) continue;
      bytes[at] ^= 0x5a;
    }
    fs.writeFileSync(file, bytes);
    const corrupt: CorruptLine[] = [];
    const entries = await readAllEntries(file, { onCorrupt: (c) => corrupt.push(c) });
    expect(entries.length + corrupt.length).toBeLessThanOrEqual(2000);
    expect(entries.length).toBeGreaterThan(1800);
    const reported = new Set(corrupt.map((c) => c.lineNumber));
    for (const ln of damaged) expect(reported.has(ln), `line ${ln} reported`).toBe(true);
    for (const c of corrupt) {
      expect(c.file).toBe(file);
      expect(c.offset).toBe(lineStarts[c.lineNumber! - 1]);
    }
    // Every entry read is one of the intact ones, at its own line.
    for (const e of entries) expect(reported.has(e.lineNumber)).toBe(false);
  });

  it('reads a rotated .gz file', async () => {
    const file = path.join(dir, 'a_stream.jsonl.20260101T000000000.gz');
    const text = writeLog(path.join(dir, 'plain'), 300);
    fs.writeFileSync(file, zlib.gzipSync(text));
    const entries = await readAllEntries(file);
    expect(entries.map((e) => e.entry.sequence)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const from = entries[100].offset;
    const rest = await readAllEntries(file, { offset: from });
    expect(rest[0].entry.sequence).toBe(101);
  });

  it('reports a damaged .gz instead of crashing', async () => {
    const file = path.join(dir, 'a_stream.jsonl.20260101T000000000.gz');
    const gz = zlib.gzipSync(writeLog(path.join(dir, 'plain'), 3000));
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    const reader = new LogReader(file);
    const entries = [];
    for await (const e of reader) entries.push(e);
    expect(entries.length).toBeLessThan(3000);
    expect(reader.corrupt.at(-1)?.error).toMatch(/cannot read further/);
  });

  it('reads what a real writer wrote', async () => {
    const file = path.join(dir, 'w_stream.jsonl');
    const writer = new LogWriter(file, { agentId: 'w' });
    for (let i = 0; i < 100; i++) writer.append({ type: i % 2 ? 'stderr' : 'stdout', content: `\x1b[31m${i}\x1b[0m\r` });
    await writer.close();
    const entries = await readAllEntries(file);
    expect(entries).toHaveLength(100);
    expect(entries[7].entry.content).toBe('\x1b[31m7\x1b[0m\r');
  });
});
