/**
 * `claude -p --output-format stream-json` logs (the Claude Agent SDK's message stream) as Loupe
 * entries.
 *
 * Each line is an SDK message: `system` (subtype `init` with `session_id`, `cwd`, `model`, the
 * tools; `compact_boundary`; others), `assistant` and `user` with an Anthropic API `message`
 * (the same content blocks a Claude Code transcript has), `stream_event` (partial deltas with
 * `--include-partial-messages`, which repeat the assistant messages and are not written) and
 * `result` (subtype `success` or `error_…`, `is_error`, `num_turns`, `duration_ms`,
 * `total_cost_usd`, `usage`, `modelUsage`).
 *
 * Tokens and cost come only from `result` messages. They are running totals for the claude
 * process (one result per turn with `--input-format stream-json`), so each result adds what grew
 * since the previous one, and the run's total is the last result's.
 *
 * The lines carry no timestamps. The session is placed so that it ends when the file was last
 * written (its mtime, `ParseOptions.fallbackMicros`) and lasts the last result's `duration_ms`;
 * its records are spread evenly over that span, in order. Before a result arrives (a run still
 * writing) every record is at the mtime.
 */
import type { EntryMetadata } from '../../../shared/entry.js';
import { blockEntries } from './claudeTranscript.js';
import {
  asObject,
  asString,
  count,
  isZero,
  jsonLinesSession,
  jsonRecords,
  textEntries,
  tokenGrowth,
  unknownRecordEntry,
  usageEntry,
  type ImportedEntry,
  type ParsedSession,
  type ParseOptions,
  type SourceLine,
  type TokenCounts,
} from './session.js';

/** Tokens and cost of one model so far, as a result message states them. */
interface ModelTotal {
  tokens: TokenCounts;
  costUsd: number | undefined;
}

export function parseClaudeStream(lines: readonly SourceLine[], fileStem: string, options: ParseOptions): ParsedSession {
  const session = jsonLinesSession('claude-stream', lines, fileStem);
  session.command = 'claude -p';
  const records = [...jsonRecords(lines, session)];
  const end = options.fallbackMicros;
  const lastResult = records.filter((r) => r.type === 'result').at(-1);
  const spanMicros = lastResult === undefined ? 0 : count(lastResult.duration_ms) * 1000;
  const timeOf = (i: number) => (records.length < 2 ? end : end - spanMicros + Math.round((spanMicros * i) / (records.length - 1)));
  session.startMicros = records.length === 0 ? end : timeOf(0);

  let model: string | null = null;
  const totals = new Map<string | null, ModelTotal>();
  const toolNames = new Map<string, string>();
  const out = session.entries;
  records.forEach((record, i) => {
    const time = timeOf(i);
    const kind = asString(record.type) ?? '(no type)';
    const sessionId = asString(record.session_id);
    if (session.sessionId === fileStem && sessionId !== null && sessionId !== '') session.sessionId = sessionId;
    const base: EntryMetadata = {};
    if (typeof record.uuid === 'string') base.uuid = record.uuid;
    if (typeof record.parent_tool_use_id === 'string') base.parent_tool_use_id = record.parent_tool_use_id;
    const message = asObject(record.message);
    switch (kind) {
      case 'system': {
        const subtype = asString(record.subtype) ?? 'system';
        if (subtype === 'init') {
          session.cwd ??= asString(record.cwd);
          model = asString(record.model) ?? model;
          const tools = Array.isArray(record.tools) ? record.tools.length : 0;
          out.push({
            type: 'system',
            content: `[claude] session started: model ${model ?? 'unknown'}, ${tools} tools${typeof record.permissionMode === 'string' ? `, permission mode ${record.permissionMode}` : ''}`,
            timeMicros: time,
            metadata: { ...base, event: 'init', level: 'info', model, record },
          });
        } else if (subtype === 'compact_boundary') {
          out.push({ type: 'system', content: 'Conversation compacted', timeMicros: time, metadata: { ...base, event: 'compaction', record } });
        } else {
          out.push({ type: 'system', content: `[claude] ${subtype}`, timeMicros: time, metadata: { ...base, event: subtype, record } });
        }
        return;
      }
      case 'assistant':
      case 'user': {
        if (message === null) break;
        if (kind === 'assistant') model = asString(message.model) ?? model;
        const content = message.content;
        const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
        for (const raw of blocks) {
          const block = asObject(raw);
          if (block !== null) out.push(...blockEntries(block, kind, record.isSynthetic === true, record, base, time, toolNames));
        }
        return;
      }
      case 'stream_event':
        return;
      case 'result':
        out.push(...resultEntries(record, base, time));
        out.push(...usageGrowth(record, model, totals, time));
        return;
    }
    out.push(unknownRecordEntry(kind, record, time, 'claude'));
  });
  return session;
}

/** A result as a `system` entry (its subtype, turns, duration and cost), or as `stderr` at level `error` with its text when it failed. */
function resultEntries(record: Record<string, unknown>, base: EntryMetadata, time: number): ImportedEntry[] {
  const subtype = asString(record.subtype) ?? 'result';
  const failed = record.is_error === true || subtype.startsWith('error');
  const cost = typeof record.total_cost_usd === 'number' ? `, $${record.total_cost_usd}` : '';
  const lines = [`[claude] result: ${subtype}, ${count(record.num_turns)} turns, ${count(record.duration_ms) / 1000} s${cost}`];
  // An error result's text says what went wrong; a success repeats the last assistant text.
  if (failed && typeof record.result === 'string' && record.result !== '') lines.push(record.result);
  const metadata: EntryMetadata = {
    ...base,
    event: 'result',
    level: failed ? 'error' : 'info',
    subtype,
    is_error: failed,
    num_turns: count(record.num_turns),
    duration_ms: count(record.duration_ms),
    duration_api_ms: count(record.duration_api_ms),
    total_cost_usd: typeof record.total_cost_usd === 'number' ? record.total_cost_usd : null,
  };
  return textEntries(lines.join('\n'), failed ? 'stderr' : 'system', time, metadata);
}

/**
 * Usage entries for what a result's running totals grew by since the previous result: per model
 * from `modelUsage` (with its `costUSD`), else from `usage` and `total_cost_usd` for the session's
 * model. A cost the result does not state is left to the price table.
 */
function usageGrowth(record: Record<string, unknown>, model: string | null, totals: Map<string | null, ModelTotal>, time: number): ImportedEntry[] {
  const now = new Map<string | null, ModelTotal>();
  const byModel = asObject(record.modelUsage);
  if (byModel !== null && Object.keys(byModel).length > 0) {
    for (const [name, raw] of Object.entries(byModel)) {
      const u = asObject(raw) ?? {};
      now.set(name, {
        tokens: { input: count(u.inputTokens), output: count(u.outputTokens), cacheRead: count(u.cacheReadInputTokens), cacheWrite: count(u.cacheCreationInputTokens) },
        costUsd: typeof u.costUSD === 'number' ? u.costUSD : undefined,
      });
    }
  } else {
    const u = asObject(record.usage);
    if (u === null) return [];
    now.set(model, {
      tokens: { input: count(u.input_tokens), output: count(u.output_tokens), cacheRead: count(u.cache_read_input_tokens), cacheWrite: count(u.cache_creation_input_tokens) },
      costUsd: typeof record.total_cost_usd === 'number' ? record.total_cost_usd : undefined,
    });
  }
  const out: ImportedEntry[] = [];
  for (const [name, total] of now) {
    const before = totals.get(name);
    const tokens = tokenGrowth(total.tokens, before?.tokens ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    const cost = total.costUsd === undefined ? undefined : Math.max(0, total.costUsd - (before?.costUsd ?? 0));
    totals.set(name, total);
    if (!isZero(tokens) || (cost ?? 0) > 0) out.push(usageEntry(name, tokens, time, cost));
  }
  return out;
}
