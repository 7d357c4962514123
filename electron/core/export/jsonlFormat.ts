/**
 * `jsonl`: the entries as stored (SPEC §3), sequences kept, one agent after another. An entry
 * that redaction did not change is copied byte for byte from the log.
 */
import { serializeEntry, type LogEntry } from '../../../shared/entry.js';
import type { OutputSink, RunFormatter } from './formatter.js';

export function jsonlFormatter(sink: OutputSink): RunFormatter {
  return {
    startAgent() {},
    resize() {},
    entry(entry: LogEntry, storedLine?: string) {
      sink.write(storedLine !== undefined ? storedLine + '\n' : serializeEntry(entry));
    },
    endAgent() {},
    finish() {},
  };
}
