/** `jsonl`: the entries as stored (SPEC §3), sequences kept, one agent after another. */
import { serializeEntry, type LogEntry } from '../../../shared/entry.js';
import type { OutputSink, RunFormatter } from './formatter.js';

export function jsonlFormatter(sink: OutputSink): RunFormatter {
  return {
    startAgent() {},
    resize() {},
    entry(entry: LogEntry) {
      sink.write(serializeEntry(entry));
    },
    endAgent() {},
    finish() {},
  };
}
