import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLogsDir, streamPath } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { destinationDir, readCursor, unshippedEntries, writeCursor, type ShipDestination } from './cursor.js';

const TASK = 'TASK-20261202-040000-0a1b2c3d';
const destination: ShipDestination = { kind: 'otlp', endpoint: 'http://collector:4318/v1/logs', machine: 'box-1' };
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-cursor-'));
  ensureLogsDir(root, TASK);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function write(agentId: string, count: number): void {
  const w = new LogWriter(streamPath(root, TASK, agentId), { agentId });
  for (let i = 0; i < count; i++) w.append({ type: 'stdout', content: `line ${i}` });
  w.closeSync();
}

const agent = (agentId: string) => ({ root, taskId: TASK, agentId });

describe('shipping cursors', () => {
  it('start at nothing, keep what was written, and leave no temporary file', () => {
    const dir = destinationDir(root, destination);
    expect(readCursor(dir, agent('a'))).toEqual({ sequence: 0, line: 0 });
    writeCursor(dir, destination, agent('a'), { sequence: 7, line: 3 });
    writeCursor(dir, destination, agent('a'), { sequence: 9, line: 4 });
    expect(readCursor(dir, agent('a'))).toEqual({ sequence: 9, line: 4 });
    expect(fs.readdirSync(path.join(dir, TASK))).toEqual(['a.json']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'destination.json'), 'utf8'))).toEqual(destination);
  });

  it('a destination for another endpoint or machine has its own cursors', () => {
    expect(destinationDir(root, { ...destination, machine: 'box-2' })).not.toBe(destinationDir(root, destination));
    expect(destinationDir(root, { ...destination, endpoint: 'http://other:4318/v1/logs' })).not.toBe(destinationDir(root, destination));
  });

  it('a torn cursor is an error naming the file, not a silent start over', () => {
    const dir = destinationDir(root, destination);
    fs.mkdirSync(path.join(dir, TASK), { recursive: true });
    fs.writeFileSync(path.join(dir, TASK, 'a.json'), '{"sequence": 4');
    expect(() => readCursor(dir, agent('a'))).toThrow(`${path.join(dir, TASK, 'a.json')} is not a shipping position`);
    fs.writeFileSync(path.join(dir, TASK, 'a.json'), '{"sequence": "4"}');
    expect(() => readCursor(dir, agent('a'))).toThrow(`${path.join(dir, TASK, 'a.json')} is not a shipping position`);
  });

  it('counts the entries each kind of destination has not acknowledged; nothing while nothing ships', () => {
    write('a', 5);
    write('b', 4);
    expect(unshippedEntries(root)).toEqual(new Map());
    const dir = destinationDir(root, destination);
    writeCursor(dir, destination, agent('a'), { sequence: 3, line: 0 });
    expect(unshippedEntries(root)).toEqual(new Map([['otlp', 2 + 4]])); // b has no cursor yet: all of it
    const other = { ...destination, endpoint: 'http://other:4318/v1/logs' };
    writeCursor(destinationDir(root, other), other, agent('a'), { sequence: 5, line: 0 });
    writeCursor(destinationDir(root, other), other, agent('b'), { sequence: 4, line: 0 });
    expect(unshippedEntries(root)).toEqual(new Map([['otlp', 6]])); // the destination furthest behind
    writeCursor(dir, destination, agent('b'), { sequence: 4, line: 0 });
    writeCursor(dir, destination, agent('a'), { sequence: 5, line: 0 });
    expect(unshippedEntries(root)).toEqual(new Map([['otlp', 0]]));
  });
});
