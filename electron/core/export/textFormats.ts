/**
 * `ansi`: the run's terminal byte stream exactly (SPEC §3: each output entry's content, plus its
 * newline unless it is partial). `text`: the same with escape sequences removed.
 * A task export puts a `==> agent <==` line before each agent, as `tail` does for several files.
 */
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { completePrefixLength, visibleText } from '../redact/terminalEscapes.js';
import type { ExportContext, OutputSink, RunFormatter } from './formatter.js';

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
  // An escape sequence cut between two partial chunks is held until its end arrives.
  let carry = '';
  const flush = (all: boolean) => {
    const cut = all ? carry.length : completePrefixLength(carry);
    if (cut > 0) sink.write(visibleText(carry.slice(0, cut)).visible);
    carry = carry.slice(cut);
  };
  return {
    startAgent(agent) {
      sink.write(agentHeader(context, agent.agentId));
    },
    resize() {},
    entry(entry: LogEntry) {
      const text = entryTerminalText(entry);
      if (text === '') return;
      carry += text;
      flush(false);
    },
    endAgent() {
      flush(true);
      carry = '';
    },
    finish() {},
  };
}
