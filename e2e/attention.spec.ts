// Attention (SPEC §13): which agent needs you, and what it asks, without opening its pane.
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
