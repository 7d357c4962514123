import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryTerminalText, parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import { createClassifier } from './classify.js';
import { PARTIAL_MAX_BYTES, SpoolCapture } from './spool-capture.js';
import { recordPath, type CaptureRecord } from './state.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-spool-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function newRecord(logFile: string): CaptureRecord {
  return {
    captureId: 'spool-test',
    socketName: 'test',
    paneId: '%0',
    session: 'test',
    agentId: 'agent',
    taskId: 'TASK-20260101-000000-00000000',
    root: dir,
    logFile,
    method: 'pipe-pane',
    command: 'test',
    phase: 'capturing',
    createdAt: Date.now(),
    cols: 80,
    rows: 24,
    killDeadPane: false,
    offset: 0,
    sequence: 0,
  };
}

function entriesOf(file: string): LogEntry[] {
  const text = fs.readFileSync(file, 'utf8');
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const parsed = parseEntryLine(line);
      if (!parsed.ok) throw new Error(`bad line: ${line.slice(0, 200)}`);
      return parsed.entry;
    });
}

/** A deterministic pseudo-random generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Pane output with everything the converter must keep: colors, CRLF, UTF-8, invalid bytes, NUL, long lines. */
function paneOutput(rand: () => number, bytes: number): Buffer {
  const pieces: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const r = rand();
    let piece: Buffer;
    if (r < 0.5) piece = Buffer.from(`\x1b[32mline ${size}\x1b[0m ok — 日本 🎉\r\n`);
    else if (r < 0.6) piece = Buffer.from(`Error: failed at ${size}\r\n`);
    else if (r < 0.7) piece = Buffer.from([0xff, 0xc3, 0x0a, 0xe2, 0x82, 0x00, 0x0a]); // invalid UTF-8 and NUL
    else if (r < 0.75) piece = Buffer.from('x'.repeat(PARTIAL_MAX_BYTES + Math.floor(rand() * 3 * PARTIAL_MAX_BYTES)) + '\n');
    else if (r < 0.8) piece = Buffer.from('é'.repeat(PARTIAL_MAX_BYTES / 2 + 7)); // a long line cut inside characters
    else piece = Buffer.from(`progress ${Math.floor(rand() * 100)}%\r`);
    pieces.push(piece);
    size += piece.length;
  }
  return Buffer.concat(pieces);
}

describe('SpoolCapture conversion', () => {
  it('rebuilds the byte stream exactly from entries, whatever the read boundaries (T7)', () => {
    for (const seed of [1, 2]) {
      const rand = random(seed);
      const input = paneOutput(rand, 2 * 1024 * 1024);
      const spool = path.join(dir, `s${seed}.spool`);
      const logFile = path.join(dir, `s${seed}_stream.jsonl`);
      fs.writeFileSync(spool, '');
      const capture = new SpoolCapture(dir, spool, newRecord(logFile), createClassifier());
      // Appended in uneven pieces with pumps in between, as tmux and the watcher would.
      for (let at = 0; at < input.length; ) {
        const n = 1 + Math.floor(rand() * 300_000);
        fs.appendFileSync(spool, input.subarray(at, at + n));
        at += n;
        capture.pump();
      }
      capture.drain();
      capture.dispose();
      const entries = entriesOf(logFile);
      const rebuilt = entries.map(entryTerminalText).join('');
      expect(rebuilt).toBe(input.toString('utf8'));
      expect(entries.map((e) => e.sequence)).toEqual(entries.map((_, i) => i + 1));
      expect(entries.every((e) => Buffer.byteLength(e.content) <= PARTIAL_MAX_BYTES || e.content.includes('\ufffd'))).toBe(true);
    }
  });

  it('D10: keeps converting when its record cannot be saved (state folder on a full disk)', () => {
    const spool = path.join(dir, 'f.spool');
    const logFile = path.join(dir, 'f_stream.jsonl');
    fs.writeFileSync(spool, 'first\r\n');
    const capture = new SpoolCapture(dir, spool, newRecord(logFile), createClassifier());
    capture.pump();
    // Every save of the record now fails with ENOSPC: its temp file is the full device.
    const tmp = `${recordPath(dir, 'spool-test')}.${process.pid}.tmp`;
    fs.symlinkSync('/dev/full', tmp);
    fs.appendFileSync(spool, 'second\r\nthird\r\n');
    expect(() => capture.pump()).not.toThrow();
    fs.rmSync(tmp);
    fs.appendFileSync(spool, 'fourth\r\n');
    capture.pump();
    capture.dispose();
    expect(entriesOf(logFile).map((e) => e.content)).toEqual(['first\r', 'second\r', 'third\r', 'fourth\r']);
    expect(JSON.parse(fs.readFileSync(recordPath(dir, 'spool-test'), 'utf8')).sequence).toBe(4);
  });

  it('classifies every line in order and marks chunks without a newline as partial', () => {
    const spool = path.join(dir, 'c.spool');
    const logFile = path.join(dir, 'c_stream.jsonl');
    fs.writeFileSync(spool, 'plain\r\nTraceback (most recent call last):\r\n  File "x.py", line 1\r\nValueError: bad\r\nafter\r\nno newline');
    const capture = new SpoolCapture(dir, spool, newRecord(logFile), createClassifier());
    capture.drain();
    capture.dispose();
    const entries = entriesOf(logFile);
    expect(entries.map((e) => [e.content, e.type, e.metadata?.level, e.metadata?.partial])).toEqual([
      ['plain\r', 'stdout', undefined, undefined],
      ['Traceback (most recent call last):\r', 'stderr', 'error', undefined],
      ['  File "x.py", line 1\r', 'stderr', 'error', undefined],
      ['ValueError: bad\r', 'stderr', 'error', undefined],
      ['after\r', 'stdout', undefined, undefined],
      ['no newline', 'stdout', undefined, true],
    ]);
  });

  it('writes the lines of one read with one write and one timestamp', () => {
    const spool = path.join(dir, 'w.spool');
    const logFile = path.join(dir, 'w_stream.jsonl');
    fs.writeFileSync(spool, Array.from({ length: 1000 }, (_, i) => `line ${i}\r\n`).join(''));
    const capture = new SpoolCapture(dir, spool, newRecord(logFile), createClassifier());
    capture.pump();
    const entries = entriesOf(logFile);
    expect(entries).toHaveLength(1000);
    expect(new Set(entries.map((e) => e.timestamp)).size).toBe(1);
    expect(capture.record.offset).toBe(fs.statSync(spool).size);
    expect(capture.record.sequence).toBe(1000);
    capture.dispose();
  });

  it('continues where the record says after a restart, without writing a line twice', () => {
    const spool = path.join(dir, 'r.spool');
    const logFile = path.join(dir, 'r_stream.jsonl');
    fs.writeFileSync(spool, 'one\ntwo\n');
    const record = newRecord(logFile);
    let capture = new SpoolCapture(dir, spool, record, createClassifier());
    capture.pump();
    capture.dispose();
    fs.appendFileSync(spool, 'three\n');
    capture = new SpoolCapture(dir, spool, { ...record }, createClassifier());
    capture.drain();
    capture.dispose();
    expect(entriesOf(logFile).map((e) => [e.sequence, e.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
  });
});
