import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseEntryLine, parseTimestamp, serializeEntry, type LogEntry } from './entry.js';

describe('timestamps', () => {
  it('formats microseconds with a UTC offset and parses them back', () => {
    const micros = Date.UTC(2026, 10, 21, 23, 54, 9) * 1000 + 712_345;
    expect(formatTimestamp(micros)).toBe('2026-11-21T23:54:09.712345+00:00');
    expect(parseTimestamp(formatTimestamp(micros))).toBe(micros);
  });

  it('keeps formatting right when consecutive calls cross a second', () => {
    const base = Date.UTC(2026, 0, 1, 0, 0, 59) * 1000;
    expect(formatTimestamp(base + 999_999)).toBe('2026-01-01T00:00:59.999999+00:00');
    expect(formatTimestamp(base + 1_000_000)).toBe('2026-01-01T00:01:00.000000+00:00');
    expect(formatTimestamp(base + 5)).toBe('2026-01-01T00:00:59.000005+00:00');
  });

  it('reads offsets and naive stamps', () => {
    expect(parseTimestamp('2026-01-01T01:00:00.5+01:00')).toBe(Date.UTC(2026, 0, 1) * 1000 + 500_000);
    expect(parseTimestamp('2026-01-01T00:00:00')).toBe(new Date(2026, 0, 1).getTime() * 1000);
    expect(parseTimestamp('yesterday')).toBeNaN();
  });
});

describe('serializeEntry', () => {
  it('writes one line in the documented key order that parses back to the same entry', () => {
    const entry: LogEntry = {
      metadata: { partial: true },
      content: 'a "quoted"\u001b[31m red\r\u0000 line \u2028',
      sequence: 7,
      type: 'stdout',
      agent_id: 'agent-1',
      timestamp: '2026-11-21T23:54:09.712345+00:00',
    };
    const line = serializeEntry(entry);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
    expect(Object.keys(JSON.parse(line))).toEqual(['timestamp', 'agent_id', 'type', 'sequence', 'content', 'metadata']);
    const parsed = parseEntryLine(line.slice(0, -1));
    expect(parsed).toEqual({ ok: true, entry });
  });

  it('leaves metadata out when there is none', () => {
    const line = serializeEntry({ timestamp: '2026-01-01T00:00:00.000000+00:00', agent_id: 'a', type: 'system', sequence: 1, content: '' });
    expect(JSON.parse(line)).not.toHaveProperty('metadata');
  });

  it('rejects lines that are not entries, naming the problem', () => {
    expect(parseEntryLine('{"timestamp":"x"}')).toEqual({ ok: false, error: 'timestamp is missing or not ISO 8601' });
    expect(parseEntryLine('{')).toEqual({ ok: false, error: 'not valid JSON' });
  });
});
