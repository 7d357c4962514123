/**
 * Codex rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`) as Loupe entries.
 *
 * Each line is `{timestamp, type, payload}` with type `session_meta` (id, cwd, cli version),
 * `turn_context` (the model of the turns that follow), `response_item` (the model's items:
 * message, function_call / function_call_output, custom_tool_call(_output), local_shell_call,
 * reasoning, web_search_call), `event_msg` (UI events; `token_count` carries the session's
 * cumulative `info.total_token_usage`) and `compacted`. `event_msg` user and agent messages
 * repeat response items, so they are not written twice.
 */
import type { EntryMetadata } from '../../../shared/entry.js';
import {
  asObject,
  asString,
  count,
  isZero,
  jsonLinesSession,
  jsonRecords,
  oneLine,
  sourceMicros,
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

/** User messages Codex injects at the start of a session or turn: instructions, environment. */
const INJECTED_USER_TEXT = /^\s*(<environment_context>|<user_instructions>|<user_shell_command>|<turn_aborted>|# AGENTS\.md instructions)/;

/** `event_msg` payloads that repeat a `response_item`, or that the importer reads for their numbers. */
const REPEATED_EVENTS = new Set(['user_message', 'agent_message', 'agent_reasoning', 'agent_reasoning_raw_content', 'token_count']);

/** `event_msg` payloads that report a failure. */
const ERROR_EVENTS = new Set(['error', 'stream_error']);

export function parseCodexRollout(lines: readonly SourceLine[], fileStem: string, options: ParseOptions): ParsedSession {
  const session = jsonLinesSession('codex', lines, fileStem);
  let sessionIdSeen = false;
  let time = session.startMicros ?? options.fallbackMicros;
  let model: string | null = null;
  let total: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  const toolNames = new Map<string, string>();
  const out = session.entries;

  for (const record of jsonRecords(lines, session)) {
    time = sourceMicros(record.timestamp) ?? time;
    const kind = asString(record.type) ?? '(no type)';
    const payload = asObject(record.payload);
    if (payload === null) {
      out.push(unknownRecordEntry(kind, record, time, 'codex'));
      continue;
    }
    switch (kind) {
      case 'session_meta': {
        const id = asString(payload.id);
        if (!sessionIdSeen && id !== null && id !== '') {
          session.sessionId = id;
          sessionIdSeen = true;
        }
        session.cwd ??= asString(payload.cwd);
        if (typeof payload.cli_version === 'string') session.startMetadata.cli_version ??= payload.cli_version;
        break;
      }
      case 'turn_context':
        model = asString(payload.model) ?? model;
        session.cwd ??= asString(payload.cwd);
        break;
      case 'response_item':
        out.push(...responseItemEntries(payload, time, toolNames));
        break;
      case 'event_msg': {
        const type = asString(payload.type) ?? '(no type)';
        if (type === 'token_count') {
          const next = cumulativeTokens(payload);
          if (next === null) break;
          const delta = tokenGrowth(next, total);
          total = next;
          if (!isZero(delta)) out.push(usageEntry(model, delta, time));
        } else if (!REPEATED_EVENTS.has(type)) {
          const text = asString(payload.message) ?? `[codex] ${type}`;
          const meta: EntryMetadata = { event: type, record: payload };
          if (ERROR_EVENTS.has(type)) meta.level = 'error';
          out.push(...textEntries(text, 'system', time, meta));
        }
        break;
      }
      case 'compacted':
        out.push(...textEntries(`[compacted] ${asString(payload.message) ?? ''}`, 'system', time, { event: 'compaction' }));
        break;
      default:
        out.push(unknownRecordEntry(kind, record, time, 'codex'));
    }
  }
  return session;
}

function responseItemEntries(item: Record<string, unknown>, time: number, toolNames: Map<string, string>): ImportedEntry[] {
  const type = asString(item.type) ?? '(no type)';
  switch (type) {
    case 'message': {
      const role = asString(item.role) ?? 'assistant';
      const text = messageText(item.content);
      if (role === 'user' && !INJECTED_USER_TEXT.test(text)) return textEntries(text, 'stdout', time, { role });
      if (role === 'assistant') return textEntries(text, 'stdout', time, { role });
      // developer / system instructions, and the context Codex puts in user messages
      return textEntries(text, 'system', time, { role, event: 'injected' });
    }
    case 'function_call':
    case 'custom_tool_call': {
      const name = asString(item.name) ?? 'tool';
      const callId = asString(item.call_id);
      if (callId !== null) toolNames.set(callId, name);
      const raw = type === 'function_call' ? item.arguments : item.input;
      return [toolCallEntry(name, callId, parseArguments(raw), time)];
    }
    case 'local_shell_call': {
      const callId = asString(item.call_id);
      if (callId !== null) toolNames.set(callId, 'local_shell');
      return [toolCallEntry('local_shell', callId, item.action ?? {}, time)];
    }
    case 'web_search_call':
      return [toolCallEntry('web_search', asString(item.id), item.action ?? {}, time)];
    case 'function_call_output':
    case 'custom_tool_call_output': {
      const callId = asString(item.call_id);
      const result = toolOutput(item.output);
      const meta: EntryMetadata = { tool_result: (callId !== null ? toolNames.get(callId) : undefined) ?? null, call_id: callId };
      if (result.exitCode !== null) meta.exit_status = result.exitCode;
      if (result.failed) meta.level = 'error';
      const entries = textEntries(result.text, result.failed ? 'stderr' : 'stdout', time, meta);
      return entries.length > 0 ? entries : [{ type: 'system', content: `[tool result] ${result.failed ? 'failed, ' : ''}no output`, timeMicros: time, metadata: meta }];
    }
    case 'reasoning': {
      const summary = Array.isArray(item.summary)
        ? item.summary.map((s) => asString(asObject(s)?.text) ?? '').filter((t) => t !== '').join('\n')
        : '';
      return textEntries(summary, 'system', time, { event: 'reasoning', role: 'assistant' });
    }
    default:
      return [unknownRecordEntry(`response_item ${type}`, item, time, 'codex')];
  }
}

function toolCallEntry(name: string, callId: string | null, args: unknown, time: number): ImportedEntry {
  const shown = typeof args === 'string' ? args : (JSON.stringify(args) ?? '');
  return { type: 'control', content: `${name} ${oneLine(shown)}`, timeMicros: time, metadata: { tool_call: name, call_id: callId, arguments: args } };
}

/** Function-call arguments are a JSON string; keep the string when it is not JSON. */
function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Text of `input_text` / `output_text` content parts. */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => asString(asObject(part)?.text) ?? '')
    .filter((t) => t !== '')
    .join('\n');
}

/**
 * A tool output's text and whether the tool failed. Codex has written it as a JSON string
 * `{"output", "metadata": {"exit_code"}}`, as plain text starting `Exit code: N`, and as an
 * object `{content, success}`.
 */
function toolOutput(output: unknown): { text: string; exitCode: number | null; failed: boolean } {
  let value: unknown = output;
  if (typeof output === 'string') {
    try {
      const parsed = JSON.parse(output) as unknown;
      if (asObject(parsed) !== null) value = parsed;
    } catch {
      // plain text
    }
  }
  const obj = asObject(value);
  if (obj !== null) {
    const meta = asObject(obj.metadata);
    const exitCode = typeof meta?.exit_code === 'number' ? meta.exit_code : null;
    const text = asString(obj.output) ?? asString(obj.content) ?? (typeof output === 'string' ? output : JSON.stringify(obj));
    return { text, exitCode, failed: (exitCode !== null && exitCode !== 0) || obj.success === false };
  }
  const text = typeof output === 'string' ? output : '';
  const match = /^Exit code: (-?\d+)/m.exec(text);
  const exitCode = match === null ? null : Number(match[1]);
  return { text, exitCode, failed: exitCode !== null && exitCode !== 0 };
}

/**
 * The session's cumulative tokens from a `token_count` event, in Loupe's terms: Codex's
 * `input_tokens` includes `cached_input_tokens`, so `input` is the uncached rest; its
 * `output_tokens` already include the reasoning tokens. Null when the event has no totals yet.
 */
function cumulativeTokens(payload: Record<string, unknown>): TokenCounts | null {
  const usage = asObject(asObject(payload.info)?.total_token_usage);
  if (usage === null) return null;
  const cached = count(usage.cached_input_tokens);
  return { input: Math.max(0, count(usage.input_tokens) - cached), output: count(usage.output_tokens), cacheRead: cached, cacheWrite: 0 };
}
