/**
 * Claude Code transcripts written at test time (the linking tests need the current time and a
 * pane's folder, so they cannot be fixed files): a user prompt, then per tool call an assistant
 * message with its `tool_use` and usage, and the tool's result. Used only by tests and e2e specs.
 */

export interface TestToolCall {
  /** Seconds after `start`. */
  at: number;
  tool: string;
  input: Record<string, unknown>;
}

export interface TestTranscript {
  sessionId: string;
  cwd: string;
  /** ms since the epoch: the prompt's time, and what the calls' `at` count from. */
  start: number;
  prompt: string;
  calls: TestToolCall[];
  /** Per assistant message. */
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
}

/** The transcript's JSONL text. */
export function claudeTranscriptText(t: TestTranscript): string {
  const common = { sessionId: t.sessionId, cwd: t.cwd, version: '2.0.30', isSidechain: false, userType: 'external' };
  const at = (s: number) => new Date(t.start + s * 1000).toISOString();
  const records: object[] = [{ ...common, type: 'user', uuid: 'u0', parentUuid: null, timestamp: at(0), message: { role: 'user', content: t.prompt } }];
  t.calls.forEach((c, i) => {
    records.push({
      ...common,
      type: 'assistant',
      uuid: `a${i}`,
      parentUuid: i === 0 ? 'u0' : `r${i - 1}`,
      timestamp: at(c.at),
      message: {
        id: `msg_${i}`,
        model: 'claude-sonnet-4-5-20250929',
        role: 'assistant',
        content: [{ type: 'tool_use', id: `toolu_${i}`, name: c.tool, input: c.input }],
        usage: t.usage,
      },
    });
    records.push({ ...common, type: 'user', uuid: `r${i}`, parentUuid: `a${i}`, timestamp: at(c.at + 0.2), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: 'ok' }] } });
  });
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
