/**
 * A terminal run linked to an agent transcript, for the specs: a pane running a script named
 * `claude` in a project folder (printing for a while, as a TUI redraws), and a Claude Code
 * transcript of the same folder whose tool calls fall inside that output, imported at test time.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from '@playwright/test';
import type { RunSummary } from '../../shared/ipc.js';
import { claudeTranscriptText, type TestToolCall } from '../../electron/core/transcripts/testTranscripts.js';
import type { LoupeEnv } from './loupe.js';

/** A tool call of the transcript, `at` seconds after the terminal run started. */
export type ToolCallSpec = TestToolCall;

export interface LinkedRun {
  terminal: string;
  transcript: string;
  /** When the terminal run started, ms since the epoch. */
  started: number;
}

/** `loupe ARGS --root ROOT` (the reading commands take no --socket). */
export function cli(loupe: LoupeEnv, ...args: string[]): string {
  return execFileSync(process.execPath, ['bin/loupe.js', ...args, '--root', loupe.root], { encoding: 'utf8' });
}

export function summaryOf(loupe: LoupeEnv, agentId: string): RunSummary {
  return (JSON.parse(cli(loupe, 'stats', '--json')) as RunSummary[]).find((r) => r.agentId === agentId)!;
}

/**
 * Starts the pane `name` in `folder` under `scratch` (for the fake `claude` and the transcript),
 * waits until it printed `ticks` lines, imports the transcript of `calls`, and waits until the
 * two are linked and every tool call is a settled screen line (markers are screen lines, SPEC §12).
 */
export async function startLinkedRun(loupe: LoupeEnv, scratch: string, name: string, calls: ToolCallSpec[], ticks: number): Promise<LinkedRun> {
  const folder = path.join(scratch, `${name}-project`);
  const bin = path.join(scratch, 'bin');
  fs.mkdirSync(folder, { recursive: true });
  fs.mkdirSync(bin, { recursive: true });
  const script = `#!/bin/sh\ni=1\nwhile [ $i -le ${ticks} ]; do echo "claude working, tick $i"; i=$((i+1)); sleep 0.25; done\necho "claude is idle"\nsleep 600\n`;
  fs.writeFileSync(path.join(bin, 'claude'), script, { mode: 0o755 });
  const { agentId: terminal } = await loupe.runAgent(name, `cd '${folder}' && '${bin}/claude'`);
  await expect.poll(() => cli(loupe, 'tail', terminal).includes('claude is idle'), { timeout: 60_000 }).toBe(true);
  const started = Date.parse(summaryOf(loupe, terminal).start!);
  const transcript = importTranscript(loupe, path.join(scratch, `${name}.jsonl`), randomUUID(), folder, started, calls);
  await expect.poll(() => summaryOf(loupe, terminal).linked.map((l) => l.agentId)).toEqual([transcript]);
  await expect
    .poll(() => JSON.parse(cli(loupe, 'search', '', '--agent', transcript, '--type', 'control', '--json')).total, { timeout: 30_000 })
    .toBe(calls.length);
  return { terminal, transcript, started };
}

/** Writes and imports a Claude Code transcript in `folder` whose tool calls fall at `calls` after `start` (ms); returns its agent id. */
export function importTranscript(loupe: LoupeEnv, file: string, sessionId: string, folder: string, start: number, calls: ToolCallSpec[]): string {
  const usage = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 0 };
  // The prompt half a second after the terminal started, as a user types it into the agent.
  const shifted = calls.map((c) => ({ ...c, at: c.at - 0.5 }));
  fs.writeFileSync(file, claudeTranscriptText({ sessionId, cwd: folder, start: start + 500, prompt: 'fix the app', calls: shifted, usage }));
  return cli(loupe, 'import', file).split(' ')[0];
}
