// Demo agents appear and stream live; a line typed into an agent's tmux pane reaches its xterm pane.
import { expect, expectPaneText, openAgent, openApp, paneText, test } from './support/loupe.js';

test('demo agents appear in the sidebar with their state and their panes show their output', async ({ page, loupe }) => {
  await loupe.loupe('demo', '--fast');
  await openApp(page, loupe);
  for (const agent of ['build', 'claude-refactor', 'codex-review', 'migrate']) {
    await expect(page.locator(`.agent-row[data-agent="${agent}"]`)).toBeVisible();
  }
  // The failing migration shows its exit status in the sidebar and in its pane's status line.
  await expect(page.locator('.agent-row[data-agent="migrate"]')).toHaveAttribute('title', /exit 1/, { timeout: 60_000 });
  await openAgent(page, 'migrate');
  await expectPaneText(page, 'migrate', 'tools/migrate.py');
  await expect(page.locator('.pane[data-agent="migrate"] .pane-status')).toContainText('exit 1');
});

test('a pane streams new output live, in order, without losing lines', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('ticker', 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "tick $i"; sleep 0.02; done; sleep 60');
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'tick 5');
  // Lines written after the pane opened arrive through the live subscription.
  await expectPaneText(page, agentId, 'tick 400');
  const ticks = (await paneText(page, agentId)).split('\n').filter((l) => /^tick \d+$/.test(l.trim()));
  expect(ticks.map((l) => Number(l.trim().slice(5)))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
});

test('a line sent into the agent\'s tmux pane with send-keys appears in its pane', async ({ page, loupe }) => {
  const { agentId, paneId } = await loupe.runAgent('shell', 'exec sh');
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expect.poll(() => page.locator(`.pane[data-agent="${agentId}"] .state-dot.state-live`).count()).toBe(1);
  await loupe.tmux('send-keys', '-t', paneId, 'echo "hello from $((6*7)) send-keys"', 'Enter');
  await expectPaneText(page, agentId, 'hello from 42 send-keys');
});

test('a first visit that opens four live panes at once loads every one of them', async ({ page, loupe }) => {
  // Each opening pane asks for its tail and its summary: more calls at once than the server runs
  // per connection (MAX_CALLS_IN_FLIGHT); the bridge must queue them, not have them refused.
  await loupe.loupe('demo');
  await openApp(page, loupe);
  await expect(page.locator('.pane')).toHaveCount(4);
  for (const agent of ['build', 'claude-refactor', 'codex-review', 'migrate']) {
    await expect.poll(async () => (await paneText(page, agent)).trim().length, { message: `${agent} shows output` }).toBeGreaterThan(0);
  }
  await expect(page.locator('.pane-error')).toHaveCount(0);
});
