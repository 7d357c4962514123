// Attention (SPEC §13): which agent needs you, and what it asks, without opening its pane.
import fs from 'node:fs';
import path from 'node:path';
import { expect, openApp, test } from './support/loupe.js';

test('the Needs-you group shows a waiting agent\'s question and the title counts it; answering clears it', async ({ page, loupe }) => {
  const { paneId } = await loupe.runAgent('deployer', 'echo "Plan: drop table users_old"; printf "Do you want to proceed? [y/N] "; read a; echo "answer: $a"; sleep 120');
  await loupe.runAgent('ticker', 'while true; do echo "tick $(date +%s%N)"; sleep 0.2; done');
  await page.goto(loupe.url);
  const group = page.locator('.needs-you');
  await expect(group.locator('.needs-you-row[data-agent="deployer"]')).toBeVisible({ timeout: 30_000 });
  await expect(group).toContainText('Do you want to proceed? [y/N]');
  await expect(group).toContainText('Plan: drop table users_old');
  await expect(page).toHaveTitle('(1) Loupe');
  // The busy agent is working, not waiting; the waiting one is amber in the tree too.
  await expect(page.locator('.agent-row[data-agent="ticker"]')).toHaveAttribute('data-attention', 'working');
  await expect(page.locator('.agent-row[data-agent="deployer"]')).toHaveAttribute('data-attention', 'waiting');
  // The key A goes to it.
  await page.keyboard.press('A');
  await expect(page.locator('.pane.is-focused[data-agent="deployer"] .badge-waiting')).toBeVisible();
  await loupe.tmux('send-keys', '-t', paneId, 'y', 'Enter');
  await expect(group).toHaveCount(0, { timeout: 15_000 });
  await expect(page).toHaveTitle('Loupe');
});

test('a first visit with live agents opens their panes instead of an empty grid', async ({ page, loupe }) => {
  await loupe.runAgent('first-a', 'echo "hello from a"; sleep 120');
  await loupe.runAgent('first-b', 'echo "hello from b"; sleep 120');
  await openApp(page, loupe);
  await expect(page.locator('.pane')).not.toHaveCount(0);
});

test('the reply bar answers a waiting agent, and the answer is in its log as user input', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('asker', 'printf "Which environment? (1. staging / 2. production) [y/N] "; read a; echo "chose: $a"; sleep 120');
  await openApp(page, loupe);
  await page.locator(`.agent-row[data-agent="${agentId}"]`).click();
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  const bar = pane.locator('.reply-bar');
  await expect(bar).toBeVisible({ timeout: 30_000 });
  await bar.getByLabel('Answer text').fill('staging please');
  await bar.getByLabel('Answer text').press('Enter');
  await expect(bar).toHaveCount(0, { timeout: 15_000 });
  const log = () => {
    const ws = path.join(loupe.root, '.agent-workspace');
    const task = fs.readdirSync(ws).find((t) => fs.existsSync(path.join(ws, t, 'logs', `${agentId}_stream.jsonl`)))!;
    return fs.readFileSync(path.join(ws, task, 'logs', `${agentId}_stream.jsonl`), 'utf8');
  };
  await expect.poll(log, { timeout: 15_000 }).toMatch(/chose: staging please/);
  await expect.poll(log, { timeout: 15_000 }).toMatch(/"user_input"/);
  const entries = log().trim().split('\n').map((l) => JSON.parse(l));
  const input = entries.find((e) => e.type === 'control' && e.metadata?.event === 'user_input');
  expect(input).toMatchObject({ content: 'staging please\r', metadata: { by: 'loupe serve' } });
});

test('a read-only web view shows who is waiting but has no reply bar', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('readonly-asker', 'printf "Ship it? [y/N] "; read a; sleep 120');
  const readOnly = await loupe.serveReadOnly();
  await page.goto(readOnly);
  await expect(page.locator('.conn-open')).toBeVisible();
  await expect(page.locator(`.needs-you-row[data-agent="${agentId}"]`)).toBeVisible({ timeout: 30_000 });
  await page.locator(`.needs-you-row[data-agent="${agentId}"]`).click();
  await expect(page.locator(`.pane[data-agent="${agentId}"] .badge-waiting`)).toBeVisible();
  await expect(page.locator('.reply-bar')).toHaveCount(0);
});
