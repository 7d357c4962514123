/**
 * A slice exports exactly the entries a search of the index returns with the same filters
 * (real SQLite index of real JSONL files).
 */
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
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

function indexSequences(query: { regex?: string; types?: EntryType[]; minLevel?: Level; since?: string; until?: string }): number[] {
  const result = searchIndex(
    indexer.db,
    {
      text: query.regex ?? '',
      regex: query.regex !== undefined,
      types: query.types,
      levels: query.minLevel === undefined ? undefined : LEVELS.slice(LEVELS.indexOf(query.minLevel)),
      agentId: 'agent-1',
      taskId: TEST_TASK_ID,
      since: query.since,
      until: query.until,
      limit: MAX_LIMIT,
      sort: 'asc',
    },
    { counts: false },
  );
  return result.hits.map((h) => h.sequence);
}

const iso = (ms: number) => new Date(TEST_RUN_START_MICROS / 1000 + ms).toISOString();

const cases: [string, { regex?: string; types?: EntryType[]; minLevel?: Level; since?: string; until?: string }][] = [
  ['a regex', { regex: 'case \\d+ failed' }],
  ['a regex across a color change', { regex: 'step \\d+ ok' }],
  ['a regex that sees a carriage return as a line break', { regex: 'progress \\d+%\\n' }],
  ['types', { types: ['stderr', 'control'] }],
  ['a level', { minLevel: 'warn' }],
  ['a time range', { since: iso(2000), until: iso(5000) }],
  ['everything at once', { regex: '\\d', types: ['stdout', 'stderr'], minLevel: 'info', since: iso(1000), until: iso(9000) }],
];

describe('slices equal the index query with the same filters', () => {
  it.each(cases)('%s', async (_name, query) => {
    const expected = indexSequences(query);
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
