import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAllEntries } from '../log/reader.js';
import { buildTimeline } from './timeline.js';
import { writeSyntheticRun, type SyntheticRun } from './test-support.js';
import { entryTerminalText } from '../../../shared/entry.js';

describe('run timeline', () => {
  let run: SyntheticRun;
  beforeAll(async () => {
    run = await writeSyntheticRun({ seed: 3, bytes: 30_000 });
  });
  afterAll(() => run.dispose());

  it('counts every entry and byte into buckets that span the run', async () => {
    const entries = (await readAllEntries(run.log.file)).map((r) => r.entry);
    const t = await buildTimeline(run.log, 50);
    expect(t.entries).toBe(entries.length);
    expect(t.firstSeq).toBe(1);
    expect(t.lastSeq).toBe(run.lastSeq);
    expect(t.bytes).toBe(entries.reduce((n, e) => n + entryTerminalText(e).length, 0));
    expect(t.buckets).toHaveLength(50);
    expect(t.buckets.reduce((n, b) => n + b.entries, 0)).toBe(entries.length);
    expect(t.buckets[0].start).toBe(t.start);
    expect(t.buckets[49].start + t.bucketMicros).toBeGreaterThan(t.end!);
  });

  it('lists resizes with their size, and the exit status', async () => {
    const t = await buildTimeline(run.log);
    expect(t.resizes[0]).toMatchObject({ seq: 1, cols: 80, rows: 24 });
    expect(t.resizes.length).toBeGreaterThan(1);
    expect(t.exitStatus).toBe(0);
  });

  it('marks error and warning entries by level, with plain text', async () => {
    const { LogWriter } = await import('../log/writer.js');
    const w = new LogWriter(run.log.file, { agentId: run.log.agentId });
    w.append({ type: 'stderr', content: '\x1b[31mTraceback (most recent call last):\x1b[0m', metadata: { level: 'error' } });
    w.append({ type: 'stdout', content: 'careful', metadata: { level: 'warn' } });
    w.append({ type: 'system', content: '[loupe] capture lost', metadata: { level: 'warn', gap: 'reader exited' } });
    await w.close();
    const t = await buildTimeline(run.log);
    expect(t.markers.slice(-3).map((m) => [m.level, m.text])).toEqual([
      ['error', 'Traceback (most recent call last):'],
      ['warn', 'careful'],
      ['warn', '[loupe] capture lost'],
    ]);
    expect(t.gaps.at(-1)).toMatchObject({ reason: 'reader exited', seq: t.lastSeq });
    expect(t.buckets.reduce((n, b) => n + b.errors, 0)).toBeGreaterThanOrEqual(1);
  });
});
