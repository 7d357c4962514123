/**
 * A raw slice (jsonl, ansi, cast) exports exactly the log entries that pass the same filters,
 * checked against a brute-force scan of the JSONL; the index (which searches screen lines) still
 * finds every entry the run wrote.
 */
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEVELS, entryLevel, parseTimestamp, type EntryType, type Level } from '../../../shared/entry.js';
import { searchableText } from '../index/searchableText.js';
import { Indexer } from '../index/indexer.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { MAX_LIMIT, searchIndex } from '../search/query.js';
import { exportRun } from './exportRun.js';
import { makeTempRoot, readJsonl, TEST_RUN_START_MICROS, TEST_TASK_ID, writeTestRun, type TestEntry } from './testRuns.js';
import type { AgentLog } from '../log/paths.js';

let root: string;
let log: AgentLog;
let indexer: Indexer;

/** A run with a bit of everything: types, levels, colors, progress bars, partial chunks. */
function varietyRun(): TestEntry[] {
  const entries: TestEntry[] = [];
  for (let i = 0; i < 120; i++) {
    const kind = i % 6;
    if (kind === 0) entries.push({ content: `\x1b[32mstep ${i}\x1b[0m ok`, metadata: { level: 'info' } });
    else if (kind === 1) entries.push({ type: 'stderr', content: `\x1b[31mError: case ${i} failed\x1b[0m`, metadata: { level: 'error' } });
    else if (kind === 2) entries.push({ content: `warning: slow test ${i}`, metadata: { level: 'warn' } });
    else if (kind === 3) entries.push({ content: `progress ${i}%\r`, metadata: { partial: true } });
    else if (kind === 4) entries.push({ type: 'control', content: `tool: edit file${i}.ts`, metadata: { tool_call: 'edit' } });
    else entries.push({ type: 'system', content: `[loupe] note ${i}`, metadata: { level: 'debug' } });
  }
  return entries;
}

beforeAll(() => {
  root = makeTempRoot();
  log = writeTestRun(root, 'agent-1', varietyRun());
  writeTestRun(root, 'agent-2', [{ content: 'Error: other agent' }]);
  indexer = new Indexer(root);
  indexer.indexPending();
});

afterAll(() => {
  indexer.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

async function exportedSequences(slice: Parameters<typeof exportRun>[0]['slice']): Promise<number[]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  await exportRun({ agents: [log], format: 'jsonl', slice }, out);
  return readJsonl(text).map((e) => e.sequence);
}

/** The sequences a brute-force scan of the run's JSONL keeps with these filters. */
function scannedSequences(query: { regex?: string; types?: EntryType[]; minLevel?: Level; since?: string; until?: string }): number[] {
  const regex = query.regex === undefined ? undefined : compileUserRegex(query.regex);
  const since = query.since === undefined ? -Infinity : Date.parse(query.since) * 1000;
  const until = query.until === undefined ? Infinity : Date.parse(query.until) * 1000;
  return readJsonl(fs.readFileSync(log.file, 'utf8'))
    .filter((e) => {
      const t = parseTimestamp(e.timestamp);
      if (t < since || t > until) return false;
      if (query.types !== undefined && !query.types.includes(e.type)) return false;
      if (query.minLevel !== undefined && LEVELS.indexOf(entryLevel(e)) < LEVELS.indexOf(query.minLevel)) return false;
      return regex === undefined || regex.test(searchableText(e.content));
    })
    .map((e) => e.sequence);
}

const iso = (ms: number) => new Date(TEST_RUN_START_MICROS / 1000 + ms).toISOString();

const cases: [string, { regex?: string; types?: EntryType[]; minLevel?: Level; since?: string; until?: string }][] = [
  ['a regex', { regex: 'case \\d+ failed' }],
  ['a regex across a color change', { regex: 'step \\d+ ok' }],
  ['a regex anchored at the end of a line that ends in a carriage return', { regex: 'progress \\d+%$' }],
  ['types', { types: ['stderr', 'control'] }],
  ['a level', { minLevel: 'warn' }],
  ['a time range', { since: iso(2000), until: iso(5000) }],
  ['everything at once', { regex: '\\d', types: ['stdout', 'stderr'], minLevel: 'info', since: iso(1000), until: iso(9000) }],
];

describe('raw slices equal a scan of the log with the same filters', () => {
  it('the index holds every entry of the run', () => {
    expect(searchIndex(indexer.db, { agentId: 'agent-1', limit: MAX_LIMIT }, { counts: false }).hits.length).toBeGreaterThan(0);
    const n = (indexer.db.prepare('SELECT count(*) AS n FROM entries e JOIN agents a ON a.id = e.agent WHERE a.agent_id = ?').get('agent-1') as { n: number }).n;
    expect(n).toBe(readJsonl(fs.readFileSync(log.file, 'utf8')).length);
  });

  it.each(cases)('%s', async (_name, query) => {
    const expected = scannedSequences(query);
    expect(expected.length).toBeGreaterThan(0);
    const exported = await exportedSequences({
      filter: {
        types: query.types,
        minLevel: query.minLevel,
        regex: query.regex === undefined ? undefined : compileUserRegex(query.regex),
      },
      sinceMicros: query.since === undefined ? undefined : Date.parse(query.since) * 1000,
      untilMicros: query.until === undefined ? undefined : Date.parse(query.until) * 1000,
    });
    expect(exported).toEqual(expected);
  });
});
