import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/entry.js';
import { createFormatter, readableText, resolveCarriageReturns } from './format.js';
import type { ReadEntry } from './reader.js';

function read(sequence: number, content: string, extra: Partial<LogEntry> = {}): ReadEntry {
  const entry: LogEntry = { timestamp: '2026-01-01T12:00:00.123456+00:00', agent_id: 'a', type: 'stdout', sequence, content, ...extra };
  return { entry, file: 'f', offset: 0, length: 0, line: JSON.stringify(entry), lineNumber: null };
}

describe('output formats', () => {
  const entries = [
    read(1, '\x1b[32mok\x1b[0m'),
    read(2, 'loading |', { metadata: { partial: true } }),
    read(3, '\rloading /', { metadata: { partial: true } }),
    read(4, '\rdone     '),
    read(5, 'started', { type: 'system', metadata: { event: 'started' } }),
    read(6, 'Traceback (most recent call last):', { type: 'stderr', metadata: { level: 'error' } }),
  ];

  it('ansi writes the exact terminal byte stream, terminal entries only', () => {
    const f = createFormatter('ansi');
    expect(f.begin() + f.format(entries) + f.end()).toBe(
      '\x1b[32mok\x1b[0m\nloading |\rloading /\rdone     \nTraceback (most recent call last):\n',
    );
  });

  it('jsonl writes the lines exactly as stored', () => {
    const f = createFormatter('jsonl');
    expect(f.format(entries)).toBe(entries.map((e) => e.line + '\n').join(''));
  });

  it('json writes a parseable array, also when streamed in batches', () => {
    const f = createFormatter('json');
    const text = f.begin() + f.format(entries.slice(0, 2)) + f.format(entries.slice(2)) + f.end();
    expect(JSON.parse(text)).toEqual(entries.map((e) => e.entry));
    const empty = createFormatter('json');
    expect(JSON.parse(empty.begin() + empty.end())).toEqual([]);
  });

  it('text strips ANSI, joins partial chunks and shows a spinner line in its final state', () => {
    const f = createFormatter('text');
    const lines = (f.format(entries) + f.end()).split('\n').slice(0, -1);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.123 out  ok$/);
    expect(lines[1]).toMatch(/ out  done {5}$/);
    expect(lines[2]).toMatch(/ sys  started$/);
    expect(lines[3]).toMatch(/ err  \[error\] Traceback \(most recent call last\):$/);
  });

  it('text shows a pending partial line when asked to', () => {
    const f = createFormatter('text');
    expect(f.format([read(1, 'Continue? [y/N] ', { metadata: { partial: true } })])).toBe('');
    expect(f.flushPending()).toMatch(/ out  Continue\? \[y\/N\] \n$/);
    expect(f.end()).toBe('');
  });
});

describe('readable text', () => {
  it('resolves \\r overwrites the way a terminal shows them', () => {
    expect(resolveCarriageReturns('50%\r100%')).toBe('100%');
    expect(resolveCarriageReturns('downloading...\rdone')).toBe('doneloading...');
    expect(resolveCarriageReturns('line\r')).toBe('line');
  });

  it('drops control characters other than tab', () => {
    expect(readableText('a\x07b\tc\x1b[1md\x1b[0m\x00')).toBe('ab\tcd');
  });
});

describe('E7: 8-bit C1 controls', () => {
  it('are removed from readable text like their 7-bit forms: C1 OSC 52, C1 CSI, C1 DCS', () => {
    expect(readableText('a\u009d52;c;aGVsbG8=\u009cb \u009b31mred\u009b0m \u0090qdcs\u009c end\u0085')).toBe('ab red  end');
  });
});
