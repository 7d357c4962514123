// A terminal run linked to its agent transcript: the replay scrubber shows the transcript's tool
// calls, a click on one opens the transcript at that call, and from the transcript one click opens
// the terminal at the same moment. The global search filters by source.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { parseTimestamp } from '../shared/entry.js';
import type { RunSummary } from '../shared/ipc.js';
import { expect, openAgent, openApp, test, type LoupeEnv } from './support/loupe.js';

const TICKS = 20;
/** The tool calls' offsets from the run's start, in seconds: inside the pane's output. */
const CALLS = [{ at: 1, tool: 'Read', input: { file_path: 'src/app.ts' } }, { at: 2, tool: 'Bash', input: { command: 'npm test' } }, { at: 3, tool: 'Edit', input: { file_path: 'src/app.ts' } }];

let base: string;
test.beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-links-')));
});
test.afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** `loupe ARGS --root ROOT` (the reading commands take no --socket). */
function cli(loupe: LoupeEnv, ...args: string[]): string {
  return execFileSync(process.execPath, ['bin/loupe.js', ...args, '--root', loupe.root], { encoding: 'utf8' });
}

function replayBar(page: Page, agentId: string) {
  return page.locator(`.pane[data-agent="${agentId}"] .replay-bar`);
}

/** A pane in `folder` running a script named `claude` that prints for a few seconds, like a TUI redrawing. */
async function startClaudePane(loupe: LoupeEnv, name: string, folder: string): Promise<string> {
  fs.mkdirSync(folder, { recursive: true });
  const bin = path.join(base, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'claude'), `#!/bin/sh\ni=1\nwhile [ $i -le ${TICKS} ]; do echo "claude working, tick $i"; i=$((i+1)); sleep 0.25; done\necho "claude is idle"\nsleep 600\n`, { mode: 0o755 });
  const { agentId } = await loupe.runAgent(name, `cd '${folder}' && '${bin}/claude'`);
  await expect.poll(() => cli(loupe, 'tail', agentId).includes('claude is idle'), { timeout: 60_000 }).toBe(true);
  return agentId;
}

/** Writes and imports a Claude Code transcript in `folder` whose tool calls fall at CALLS after `start` (ms). */
function importTranscript(loupe: LoupeEnv, sessionId: string, folder: string, start: number): string {
  const common = { sessionId, cwd: folder, version: '2.0.30', isSidechain: false, userType: 'external' };
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  const records: object[] = [{ ...common, type: 'user', uuid: 'u0', parentUuid: null, timestamp: at(0.5), message: { role: 'user', content: 'fix the app' } }];
  CALLS.forEach((c, i) => {
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
        usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 0 },
      },
    });
    records.push({ ...common, type: 'user', uuid: `r${i}`, parentUuid: `a${i}`, timestamp: at(c.at + 0.2), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: 'ok' }] } });
  });
  const file = path.join(base, `${sessionId}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return cli(loupe, 'import', file).split(' ')[0];
}

function summaryOf(loupe: LoupeEnv, agentId: string): RunSummary {
  return (JSON.parse(cli(loupe, 'stats', '--json')) as RunSummary[]).find((r) => r.agentId === agentId)!;
}

test('the scrubber of a linked run shows the tool calls; a click opens the transcript there, and back', async ({ page, loupe }) => {
  test.setTimeout(180_000);
  const folder = path.join(base, 'project');
  const terminal = await startClaudePane(loupe, 'claude-pane', folder);
  const started = Date.parse(summaryOf(loupe, terminal).start!);
  const transcript = importTranscript(loupe, 'linked-session', folder, started);
  await expect.poll(() => summaryOf(loupe, terminal).linked.map((l) => l.agentId)).toEqual([transcript]);
  // Markers are screen lines (SPEC §12): the transcript's last lines count once they stood still.
  await expect.poll(() => JSON.parse(cli(loupe, 'search', '', '--agent', transcript, '--type', 'control', '--json')).total, { timeout: 30_000 }).toBe(CALLS.length);

  await openApp(page, loupe);
  await openAgent(page, terminal);
  const pane = page.locator(`.pane[data-agent="${terminal}"]`);
  await pane.getByRole('button', { name: 'Replay' }).click();
  const marks = replayBar(page, terminal).locator('.mark-tool');
  await expect(marks).toHaveCount(CALLS.length);
  await expect(marks.nth(1)).toHaveAttribute('title', /^Bash {"command":"npm test"}\nOpen the transcript at this tool call$/);

  // Terminal → transcript: the transcript opens in Replay mode just after the Bash call.
  const bashSeq = Number(await marks.nth(1).getAttribute('data-seq'));
  await marks.nth(1).click();
  const transcriptBar = replayBar(page, transcript);
  await expect(transcriptBar).toBeVisible();
  await expect(transcriptBar).toHaveAttribute('data-seeking', 'false');
  await expect(transcriptBar).toHaveAttribute('data-seq', String(bashSeq));

  // Transcript → terminal: its own tool calls are markers too, and "Terminal" opens the pane at this moment.
  await expect(transcriptBar.locator('.mark-tool')).toHaveCount(CALLS.length);
  await replayBar(page, terminal).getByRole('button', { name: 'Back to live' }).click();
  await expect(replayBar(page, terminal)).toHaveCount(0);
  await transcriptBar.getByRole('button', { name: 'Terminal' }).click();
  const terminalBar = replayBar(page, terminal);
  await expect(terminalBar).toBeVisible();
  await expect(terminalBar).toHaveAttribute('data-seeking', 'false');
  // The terminal shows the moment of the Bash call: the last entry written by then.
  const callTime = (started + CALLS[1].at * 1000) * 1000;
  const entries = cli(loupe, 'tail', '-n', '1000', '--format', 'json', terminal);
  const seqAtCall = (JSON.parse(entries) as { sequence: number; timestamp: string }[]).filter((e) => parseTimestamp(e.timestamp) <= callTime).at(-1)!.sequence;
  await expect(terminalBar).toHaveAttribute('data-seq', String(seqAtCall));
});

test('the global search filters by source: terminal runs or agent transcripts', async ({ page, loupe }) => {
  const folder = path.join(base, 'search-project');
  fs.mkdirSync(folder, { recursive: true });
  // Both sides hold the word: the pane prints it, the transcript has it as user text.
  await loupe.runAgent('printer', 'echo "zebra-$((40+2)) in the terminal"; sleep 60');
  importTranscript(loupe, 'search-session', folder, Date.now());
  // The pane's last line is searchable once it stood still on the screen (SPEC §12).
  await expect.poll(() => JSON.parse(cli(loupe, 'search', 'zebra-42', '--json')).total, { timeout: 30_000 }).toBe(1);
  await openApp(page, loupe);
  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('fix the app');
  await expect(page.locator('.gs-hit')).not.toHaveCount(0);
  await page.getByRole('button', { name: 'terminal', exact: true }).click();
  await expect(page.locator('.gs-total')).toHaveText('0');
  await page.getByRole('button', { name: 'transcript', exact: true }).click();
  await expect(page.locator('.gs-hit[data-agent="claude-search-session"]')).toHaveCount(1);
  await page.getByLabel('Search all agents').fill('zebra-42');
  await expect(page.locator('.gs-total')).toHaveText('0');
  await page.getByRole('button', { name: 'terminal', exact: true }).click();
  await expect(page.locator('.gs-hit[data-agent="printer"]')).toHaveCount(1);
  await expect(page.locator('.gs-total')).toHaveText('1');
});
