/**
 * The export dialog in the web view (issue 6 item 3), against a real `loupe serve`, real tmux
 * captures and Chromium's real downloads:
 * - on a pane: the preview counts the secret the agent printed, and the download has it redacted;
 * - the default slice is the pane's filter; redaction off is only what the user asks for;
 * - on a task: every agent, replay-html offered with an agent picker, cast refused;
 * - the X shortcut and the `?` help list; the screenshot e2e/screenshots/export-dialog.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, expectPaneText, openAgent, openApp, test } from './support/loupe.js';

const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
/** AWS's documented example secret key: the redactor's `aws-secret-key` kind. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AGENT_OUTPUT = `echo 'deploying to staging'; echo AWS_SECRET_ACCESS_KEY=${SECRET}; echo 'Error: upload failed' >&2; echo 'deploy finished'`;

let agentId = '';

// The agent is started once for the whole file, by its first test (the server is per file).
test.beforeEach(async ({ loupe }) => {
  if (agentId === '') agentId = (await loupe.runAgent('deployer', AGENT_OUTPUT, { cols: 100, rows: 24 })).agentId;
});

/** The agent's log file under the spec's root. */
function logFile(root: string): string {
  const workspace = path.join(root, '.agent-workspace');
  for (const task of fs.readdirSync(workspace)) {
    const file = path.join(workspace, task, 'logs', `${agentId}_stream.jsonl`);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`no log for ${agentId} under ${root}`);
}

/** Opens the agent's pane and its export dialog from the pane toolbar. */
async function openPaneDialog(page: Page, env: Parameters<typeof openApp>[1]) {
  await openApp(page, env);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'deploy finished');
  await page.locator(`.pane[data-agent="${agentId}"] button[aria-label="Export"]`).click();
  const dialog = page.getByRole('dialog', { name: `Export ${agentId}` });
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Clicks Download and returns the downloaded file's name and text. */
async function download(page: Page, dialog: ReturnType<Page['getByRole']>): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download' }).click()]);
  const saved = await file.path();
  return { name: file.suggestedFilename(), text: fs.readFileSync(saved, 'utf8') };
}

test('the preview counts the secret and the download has it redacted', async ({ page, loupe }) => {
  // The secret is in the output and in the command line the start entry records: one redaction each.
  const dialog = await openPaneDialog(page, loupe); // waits until the whole output is in the pane, so in the log
  const log = fs.readFileSync(logFile(loupe.root), 'utf8');
  const occurrences = log.split(SECRET).length - 1;
  expect(occurrences).toBeGreaterThanOrEqual(2);
  await expect(dialog.getByTestId('export-redaction-total')).toHaveText(`${occurrences} secrets redacted`);
  await expect(dialog.locator('.export-kind[data-kind="aws-secret-key"]')).toContainText(String(occurrences));
  await expect(dialog.getByRole('checkbox', { name: /Redact secrets/ })).toBeChecked();

  await dialog.getByRole('radio', { name: /Text/ }).check();
  await page.setViewportSize({ width: 1100, height: 760 });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'export-dialog.png') });
  const { name, text } = await download(page, dialog);
  expect(name).toBe(`${agentId}.txt`);
  expect(text).toContain('deploying to staging');
  expect(text).toContain('AWS_SECRET_ACCESS_KEY=');
  expect(text).not.toContain(SECRET);
  await expect(dialog).toBeHidden();
});

test('turning redaction off is shown as a warning and keeps the secret', async ({ page, loupe }) => {
  const dialog = await openPaneDialog(page, loupe);
  await expect(dialog.getByTestId('export-redaction-total')).toBeVisible();
  await dialog.getByRole('checkbox', { name: /Redact secrets/ }).uncheck();
  await expect(dialog.getByText('Secrets will be exported as they are')).toBeVisible();
  await expect(dialog.getByTestId('export-preview')).toContainText('redaction off');
  await dialog.getByRole('radio', { name: /ANSI/ }).check();
  const { name, text } = await download(page, dialog);
  expect(name).toBe(`${agentId}.ans`);
  expect(text).toContain(SECRET);
});

test("the pane's filter is the default slice, and X opens the dialog", async ({ page, loupe }) => {
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'deploy finished');
  await page.locator(`.pane[data-agent="${agentId}"]`).click();
  await page.keyboard.press('e'); // errors only (level error or above)
  await expect(page.locator(`.pane[data-agent="${agentId}"] .badge-filter`)).toBeVisible();
  await page.keyboard.press('x');
  const dialog = page.getByRole('dialog', { name: `Export ${agentId}` });
  await expect(dialog.getByText('From the pane’s filter.')).toBeVisible();
  await expect(dialog.getByLabel('Level')).toHaveValue('error');
  await expect(dialog.getByTestId('export-preview')).toContainText('1 entry');
  const { name, text } = await download(page, dialog);
  expect(name).toBe(`${agentId}-slice.txt`);
  expect(text).toContain('Error: upload failed');
  expect(text).not.toContain('deploying to staging');

  await page.keyboard.press('?');
  await expect(page.locator('.help')).toContainText('Export the focused pane’s run');
});

test('in Replay mode the default slice ends at the replay position, and Escape closes the dialog', async ({ page, loupe }) => {
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'deploy finished');
  await page.locator(`.pane[data-agent="${agentId}"]`).click();
  await page.keyboard.press('r');
  const bar = page.locator(`.pane[data-agent="${agentId}"] .replay-bar`);
  const lastSeq = fs.readFileSync(logFile(loupe.root), 'utf8').trim().split('\n').length;
  await expect(bar).toHaveAttribute('data-seq', String(lastSeq));
  await page.keyboard.press('ArrowLeft'); // one entry back from the end
  await expect(bar).toHaveAttribute('data-seq', String(lastSeq - 1));
  await expect(bar).toHaveAttribute('data-seeking', 'false');
  await page.keyboard.press('x');
  const dialog = page.getByRole('dialog', { name: `Export ${agentId}` });
  await expect(dialog.getByText('Up to the replay position.')).toBeVisible();
  const toEntry = dialog.getByRole('textbox', { name: 'To entry' });
  await expect(toEntry).toHaveValue(String(lastSeq - 1));
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('a task exports every agent, with replay-html offering an agent picker', async ({ page, loupe }) => {
  const taskId = path.basename(path.dirname(path.dirname(logFile(loupe.root))));
  await loupe.loupe('run', '--task', taskId, '--name', 'reviewer', '--', 'sh', '-c', 'echo review done');
  await openApp(page, loupe);
  await expect(page.locator('.agent-row[data-agent="reviewer"]')).toBeVisible();
  const row = page.locator('.task-export-wrap', { has: page.locator(`[title="${taskId}"]`) });
  await row.hover();
  await row.getByRole('button', { name: `Export task ${taskId}` }).click();
  const dialog = page.getByRole('dialog', { name: /^Export task/ });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText(/2 agents:/)).toBeVisible();
  await expect(dialog.getByRole('radio', { name: /Replay \(HTML\)/ })).toBeChecked();
  await expect(dialog.locator('.export-format', { hasText: 'Replay (HTML)' })).toContainText('agent picker');
  await expect(dialog.getByRole('radio', { name: /asciicast/ })).toBeDisabled();
  await expect(dialog.getByTestId('export-preview')).toContainText('of 2 agents');
  await dialog.getByRole('radio', { name: /JSONL/ }).check();
  const { name, text } = await download(page, dialog);
  expect(name).toBe(`${taskId}.jsonl`);
  const agents = new Set(text.trim().split('\n').map((line) => (JSON.parse(line) as { agent_id: string }).agent_id));
  expect(agents).toEqual(new Set([agentId, 'reviewer']));
  expect(text).not.toContain(SECRET);
});
