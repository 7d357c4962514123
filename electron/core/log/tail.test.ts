import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryLevel, LEVELS, serializeEntry, type EntryType, type LogEntry } from '../../../shared/entry.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { matchesFilter, type EntryFilter } from './filter.js';
import { readAllEntries, type CorruptLine } from './reader.js';
import { tailEntries } from './tail.js';
import { LogWriter } from './writer.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-tail-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const TYPES: EntryType[] = ['stdout', 'stderr', 'system', 'control'];

/** A varied log through the real writer, rotated every `rotateBytes`. */
async function makeLog(count: number, rotateBytes = 100 * 1024 * 1024): Promise<string> {
  const file = path.join(dir, 'agent_stream.jsonl');
  const writer = new LogWriter(file, { agentId: 'agent', rotateBytes });
  for (let i = 1; i <= count; i++) {
    const type = TYPES[(i * 7) % 4];
    const level = LEVELS[(i * 3) % 5];
    const content = i % 11 === 0 ? `\x1b[31mTraceback\x1b[0m #${i}` : `step ${i} ${'x'.repeat(i % 50)}`;
    writer.append({ type, content, metadata: i % 5 === 0 ? { level } : undefined });
    if (i % 200 === 0) writer.flush(); // several batches, so rotation can happen
  }
  await writer.close();
  return file;
}

/** All entries of the log and its rotated files, oldest first: the brute-force answer. */
async function allEntries(file: string): Promise<LogEntry[]> {
  const { rotatedFiles } = await import('./paths.js');
  const out: LogEntry[] = [];
  for (const f of [...rotatedFiles(file), file]) out.push(...(await readAllEntries(f)).map((e) => e.entry));
  return out;
}

async function expectTailMatchesBruteForce(file: string, n: number, filter: EntryFilter): Promise<void> {
  const expected = (await allEntries(file)).filter((e) => matchesFilter(e, filter)).slice(n === 0 ? Infinity : -n);
  const got = await tailEntries(file, { n, filter });
  expect(got.entries.map((e) => e.entry.sequence)).toEqual(expected.map((e) => e.sequence));
}

describe('tailEntries', () => {
  it('returns the last N entries, oldest first, with where the file ends', async () => {
    const file = await makeLog(1000);
    const got = await tailEntries(file, { n: 10 });
    expect(got.entries.map((e) => e.entry.sequence)).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
    expect(got.end).toBe(fs.statSync(file).size);
    expect(got.entries[9].line).toBe(fs.readFileSync(file, 'utf8').trimEnd().split('\n').at(-1));
  });

  it('matches a brute-force scan for type, level and regex filters', async () => {
    const file = await makeLog(3000);
    const filters: EntryFilter[] = [
      {},
      { types: ['stderr'] },
      { types: ['system', 'control'] },
      { minLevel: 'warn' },
      { minLevel: 'fatal' },
      { regex: compileUserRegex('^Traceback #\\d+1$') },
      { types: ['stdout'], regex: compileUserRegex('traceback', { ignoreCase: true }) },
      { regex: compileUserRegex('no such text') },
    ];
    for (const filter of filters) {
      for (const n of [0, 1, 7, 100, 5000]) await expectTailMatchesBruteForce(file, n, filter);
    }
  });

  it('reads back through rotated plain and gzipped files, newest first', async () => {
    const file = await makeLog(3000, 32 * 1024);
    const { rotatedFiles } = await import('./paths.js');
    const rotated = rotatedFiles(file);
    expect(rotated.length).toBeGreaterThan(3);
    expect(rotated.every((f) => f.endsWith('.gz'))).toBe(true);
    // Leave one rotated file uncompressed, as after a crash during compression.
    const zlib = await import('node:zlib');
    fs.writeFileSync(rotated[1].slice(0, -3), zlib.gunzipSync(fs.readFileSync(rotated[1])));
    fs.unlinkSync(rotated[1]);
    for (const filter of [{}, { types: ['stderr'] as EntryType[] }, { regex: compileUserRegex('Traceback #1\\d\\d1') }]) {
      for (const n of [5, 400, 2999, 10_000]) await expectTailMatchesBruteForce(file, n, filter);
    }
  });

  it('W7: stops at maxBytes with the newest entries that fit, through rotated files, and says so', async () => {
    const file = await makeLog(3000, 32 * 1024);
    const whole = await tailEntries(file, { n: 3000 });
    expect(whole.truncated).toBe(false);
    for (const maxBytes of [1, 10_000, 100_000]) {
      const got = await tailEntries(file, { n: 3000, maxBytes });
      const bytes = got.entries.reduce((sum, e) => sum + e.length, 0);
      expect(got.truncated).toBe(true);
      expect(got.entries.length).toBeGreaterThan(0); // at least one, however long
      if (got.entries.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
      // Newest first: exactly the last ones of the whole tail, and the next older one would not have fit.
      expect(got.entries.map((e) => e.entry.sequence)).toEqual(whole.entries.slice(-got.entries.length).map((e) => e.entry.sequence));
      const nextOlder = whole.entries[whole.entries.length - got.entries.length - 1];
      expect(bytes + nextOlder.length).toBeGreaterThan(maxBytes);
    }
  });

  it('skips a torn tail and reports corrupt lines on the way', async () => {
    const file = await makeLog(50);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[45] = '{"timestamp": broken';
    fs.writeFileSync(file, lines.join('\n') + '{"half":');
    const corrupt: CorruptLine[] = [];
    const got = await tailEntries(file, { n: 10, onCorrupt: (c) => corrupt.push(c) });
    expect(got.entries.map((e) => e.entry.sequence)).toEqual([40, 41, 42, 43, 44, 45, 47, 48, 49, 50]);
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0].preview).toBe('{"timestamp": broken');
    expect(got.end).toBe(fs.statSync(file).size - '{"half":'.length);
  });

  it('reads an empty or missing live file as empty', async () => {
    const missing = path.join(dir, 'none_stream.jsonl');
    expect((await tailEntries(missing, { n: 10 })).entries).toEqual([]);
    fs.writeFileSync(missing, '');
    expect((await tailEntries(missing, { n: 10 })).entries).toEqual([]);
  });

  it('uses entryLevel defaults for the level filter', async () => {
    const file = path.join(dir, 'l_stream.jsonl');
    const mk = (sequence: number, type: EntryType, level?: string): string =>
      serializeEntry({ timestamp: '2026-01-01T00:00:00+00:00', agent_id: 'l', type, sequence, content: 'c', metadata: level ? { level } : undefined } as LogEntry);
    fs.writeFileSync(file, mk(1, 'stdout') + mk(2, 'stderr') + mk(3, 'stdout', 'warn') + mk(4, 'stdout', 'debug'));
    const got = await tailEntries(file, { n: 10, filter: { minLevel: 'warn' } });
    expect(got.entries.map((e) => [e.entry.sequence, entryLevel(e.entry)])).toEqual([
      [2, 'error'],
      [3, 'warn'],
    ]);
  });
});
