/**
 * Test support: writing small runs to a temporary root with the real log writer, so export
 * tests read real JSONL files. Not used by the app.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EntryMetadata, EntryType, LogEntry } from '../../../shared/entry.js';
import { ensureLogsDir, streamPath, type AgentLog } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';

export const TEST_TASK_ID = 'TASK-20261121-100000-0a1b2c3d';

export interface TestEntry {
  type?: EntryType;
  content: string;
  metadata?: EntryMetadata;
  /** Milliseconds after the run's start. */
  atMs?: number;
}

/** A fresh temporary root; remove it with `fs.rmSync(root, { recursive: true, force: true })`. */
export function makeTempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-export-'));
}

/** The start time of test runs: 2026-11-21T10:00:00Z, in microseconds. */
export const TEST_RUN_START_MICROS = Date.UTC(2026, 10, 21, 10, 0, 0) * 1000;

/** Writes a run (a started entry at 80x24, then `entries`) and returns its log. */
export function writeTestRun(root: string, agentId: string, entries: TestEntry[], taskId = TEST_TASK_ID): AgentLog {
  ensureLogsDir(root, taskId);
  const file = streamPath(root, taskId, agentId);
  const writer = new LogWriter(file, { agentId });
  writer.append({
    type: 'system',
    content: '[loupe] started',
    metadata: { event: 'started', cols: 80, rows: 24, command: 'demo' },
    timeMicros: TEST_RUN_START_MICROS,
  });
  entries.forEach((e, i) => {
    writer.append({
      type: e.type ?? 'stdout',
      content: e.content,
      ...(e.metadata !== undefined && { metadata: e.metadata }),
      timeMicros: TEST_RUN_START_MICROS + (e.atMs ?? (i + 1) * 100) * 1000,
    });
  });
  writer.closeSync();
  return { root, taskId, agentId, file };
}

/** The entries of a log file, parsed. */
export function readJsonl(text: string): LogEntry[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogEntry);
}
