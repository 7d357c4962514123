// A terminal run linked to its agent transcript: the replay scrubber shows the transcript's tool
// calls, a click on one opens the transcript at that call, and from the transcript one click opens
// the terminal at the same moment. The global search filters by source.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { parseTimestamp } from '../shared/entry.js';
import { cli, importTranscript, startLinkedRun, type ToolCallSpec } from './support/linkedRun.js';
import { expect, openAgent, openApp, test } from './support/loupe.js';

const CALLS: ToolCallSpec[] = [
  { at: 1, tool: 'Read', input: { file_path: 'src/app.ts' } },
  { at: 2, tool: 'Bash', input: { command: 'npm test' } },
  { at: 3, tool: 'Edit', input: { file_path: 'src/app.ts' } },
];

let scratch: string;
test.beforeAll(() => {
  scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-links-')));
});
test.afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function replayBar(page: Page, agentId: string) {
  return page.locator(`.pane[data-agent="${agentId}"] .replay-bar`);
}

test('the scrubber of a linked run shows the tool calls; a click opens the transcript there, and back', async ({ page, loupe }) => {
  test.setTimeout(180_000);
  const { terminal, transcript, started } = await startLinkedRun(loupe, scratch, 'claude-pane', CALLS, 20);
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
  const entries = JSON.parse(cli(loupe, 'tail', '-n', '1000', '--format', 'json', terminal)) as { sequence: number; timestamp: string }[];
  const seqAtCall = entries.filter((e) => parseTimestamp(e.timestamp) <= callTime).at(-1)!.sequence;
  await expect(terminalBar).toHaveAttribute('data-seq', String(seqAtCall));
});

test('the global search filters by source: terminal runs or agent transcripts', async ({ page, loupe }) => {
  const folder = path.join(scratch, 'search-project');
  fs.mkdirSync(folder, { recursive: true });
  // Both sides hold the word: the pane prints it, the transcript has it as user text.
  await loupe.runAgent('printer', 'echo "zebra-$((40+2)) in the terminal"; sleep 60');
  importTranscript(loupe, path.join(scratch, 'search.jsonl'), 'search-session', folder, Date.now(), CALLS);
  // A line is searchable once it stood still on the screen (SPEC §12).
  await expect.poll(() => JSON.parse(cli(loupe, 'search', 'zebra-42', '--json')).total, { timeout: 30_000 }).toBe(1);
  await expect.poll(() => JSON.parse(cli(loupe, 'search', 'fix the app', '--agent', 'claude-search-session', '--json')).total, { timeout: 30_000 }).toBe(1);
  await openApp(page, loupe);
  await page.getByRole('tab', { name: 'Search' }).click();
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
