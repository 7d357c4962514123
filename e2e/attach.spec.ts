// Attaching capture to an uncaptured tmux pane from the sidebar.
import { expect, expectPaneText, openApp, test } from './support/loupe.js';

test('attaching an uncaptured tmux pane from the sidebar starts its capture and opens its pane', async ({ page, loupe }) => {
  await loupe.tmux('new-session', '-d', '-s', 'plain', '-x', '100', '-y', '30', 'sh');
  const paneId = (await loupe.tmux('display-message', '-p', '-t', 'plain', '#{pane_id}')).trim();
  await openApp(page, loupe);
  const row = page.locator(`.pane-row[data-pane="${paneId}"]`);
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Attach' }).click();
  const pane = page.locator('.pane').first();
  await expect(pane).toBeVisible();
  const agentId = (await pane.getAttribute('data-agent'))!;
  await expect(row).toBeHidden();
  expect((await loupe.tmux('display-message', '-p', '-t', paneId, '#{pane_pipe}')).trim()).toBe('1');
  await loupe.tmux('send-keys', '-t', paneId, 'echo "captured after $((40+2)) attach"', 'Enter');
  await expectPaneText(page, agentId, 'captured after 42 attach');
});
