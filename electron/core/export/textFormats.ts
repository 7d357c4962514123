/**
 * `ansi`: the run's terminal byte stream exactly (SPEC §3: each output entry's content, plus its
 * newline unless it is partial). `text`: the screen lines (SPEC §12), what the terminal showed,
 * one per line, each once.
 * A task export puts a `==> agent <==` line before each agent, as `tail` does for several files.
 */
import { entryTerminalText, parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { rootClassifier } from '../capture/classify.js';
import type { LineRecord } from '../screen/lineRecord.js';
import { LineRecorder } from '../screen/runLines.js';
import { matchesLine } from '../log/filter.js';
import type { ExportAgent, ExportContext, OutputSink, RunFormatter } from './formatter.js';

function agentHeader(context: ExportContext, agentId: string): string {
  return context.agents.length > 1 ? `==> ${agentId} <==\n` : '';
}

export function ansiFormatter(sink: OutputSink, context: ExportContext): RunFormatter {
  return {
    startAgent(agent) {
      sink.write(agentHeader(context, agent.agentId));
    },
    resize() {},
    entry(entry: LogEntry) {
      const text = entryTerminalText(entry);
      if (text !== '') sink.write(text);
    },
    endAgent() {},
    finish() {},
  };
}

export function textFormatter(sink: OutputSink, context: ExportContext): RunFormatter {
  return lineFormatter(context, {
    startAgent: (agent) => sink.write(agentHeader(context, agent.agentId)),
    lines: (lines) => sink.write(lines.map((l) => `${l.text}\n`).join('')),
    endAgent: () => {},
  });
}

/** What a formatter of screen lines does with them. */
export interface LineSink {
  startAgent(agent: ExportAgent): void;
  lines(lines: LineRecord[]): void;
  endAgent(): void;
}

/**
 * A formatter that plays each agent's entries through the screen-line maker and hands the lines
 * that pass the slice's filter to `out` (with their colors when `colors` is set).
 */
export function lineFormatter(context: ExportContext, out: LineSink, options: { colors?: boolean } = {}): RunFormatter {
  let recorder: LineRecorder | null = null;
  // System lines (started, terminated...) are Loupe's, not the terminal's: only when asked for.
  const withSystem = context.lineFilter?.types?.includes('system') === true;
  const keep = (lines: LineRecord[]) => {
    const kept = lines.filter((l) => (withSystem || l.type !== 'system') && (context.lineFilter === undefined || matchesLine(l, context.lineFilter)));
    if (kept.length > 0) out.lines(kept);
  };
  return {
    readsLines: true,
    startAgent(agent) {
      recorder = new LineRecorder(rootClassifier(agent.root), options);
      out.startAgent(agent);
    },
    resize(_cols, _rows, entry) {
      keep(recorder!.add(entry, parseTimestamp(entry.timestamp)));
    },
    entry(entry: LogEntry) {
      if (entry.type === 'system' && entry.metadata?.cols !== undefined) return; // played by resize()
      keep(recorder!.add(entry, parseTimestamp(entry.timestamp)));
    },
    endAgent() {
      keep(recorder!.end());
      recorder = null;
      out.endAgent();
    },
    finish() {},
  };
}
