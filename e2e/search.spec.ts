// In-pane find, the filtered line view, and global search → click → the hit in its pane.
import { execFileSync } from 'node:child_process';
import { expect, expectPaneText, openAgent, openApp, test } from './support/loupe.js';

test('in-pane search counts matches and honours case, whole word and regex', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('finder', 'printf "needle one\\na needle two\\nNEEDLE three\\nneedles four\\nhay\\n"; sleep 60');
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'needles four');
  await page.locator(`.pane[data-agent="${agentId}"]`).click();
  await page.keyboard.press('Control+f');
  const bar = page.locator(`.pane[data-agent="${agentId}"] .find-bar`);
  await bar.locator('.find-input').fill('needle');
  await expect(bar.locator('.find-count')).toHaveText(/^\d of 4$/);
  await bar.getByTitle('Match case').click();
  await expect(bar.locator('.find-count')).toHaveText(/^\d of 3$/);
  await bar.getByTitle('Whole word').click();
  await expect(bar.locator('.find-count')).toHaveText(/^\d of 2$/);
  await bar.getByTitle('Whole word').click();
  await bar.getByTitle('Match case').click();
  await bar.getByTitle('Regular expression').click();
  await bar.locator('.find-input').fill('needle (one|two)');
  await expect(bar.locator('.find-count')).toHaveText(/^\d of 2$/);
  // Next moves the active match and wraps around.
  const first = await bar.locator('.find-count').textContent();
  await bar.locator('.find-input').press('Enter');
  await expect(bar.locator('.find-count')).not.toHaveText(first!);
  await bar.locator('.find-input').fill('no such text');
  await expect(bar.locator('.find-count')).toHaveText('No results');
  await page.keyboard.press('Escape');
  await expect(bar).toBeHidden();
});

test('filtering by stderr shows only the error lines, and clearing returns to the terminal', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent(
    'failing',
    'echo "starting up"; echo "all good so far"; echo "Error: disk quota exceeded"; echo "still fine"; echo "panic: nil map"; sleep 60',
  );
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'panic: nil map');
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  await pane.getByRole('button', { name: 'Filter lines' }).click();
  await pane.locator('.chip-stderr').click();
  const lines = pane.locator('.filter-lines .line');
  await expect(lines).toHaveCount(2);
  await expect(lines.nth(0)).toContainText('Error: disk quota exceeded');
  await expect(lines.nth(1)).toContainText('panic: nil map');
  for (const type of await lines.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))) expect(type).toBe('stderr');
  await expect(pane.locator('.term-host')).toBeHidden();
  // A regex narrows the same view further.
  await pane.getByLabel('Filter regex').fill('quota');
  await expect(lines).toHaveCount(1);
  await pane.getByRole('button', { name: 'Clear filter' }).click();
  await expect(pane.locator('.filter-view')).toBeHidden();
  await expect(pane.locator('.term-host')).toBeVisible();
  // The E shortcut toggles the errors-only view.
  await page.locator('body').press('e');
  await expect(lines).toHaveCount(2);
  await page.locator('body').press('e');
  await expect(pane.locator('.term-host')).toBeVisible();
});

test("E, the scrubber and loupe stats count exactly the errors the status line counts, Loupe's own exit note included", async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('migrate-like', 'echo "step 1"; echo "Error: column missing" >&2; echo "Traceback (most recent call last):"; exit 1');
  await openApp(page, loupe);
  await openAgent(page, agentId);
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  await expect(pane.locator('.pane-status')).toContainText('exit 1', { timeout: 30_000 });
  const counted = Number((await pane.locator('.pane-status .status-errors').textContent({ timeout: 15_000 }))!.match(/\d+/)![0]);
  expect(counted).toBeGreaterThan(1); // the error lines, and the terminated note (exit 1 is an error)
  await page.locator('body').press('e');
  await expect(pane.locator('.filter-lines .line')).toHaveCount(counted);
  // The replay scrubber marks the same errors, and `loupe stats` counts them.
  await page.locator('body').press('e');
  await page.locator('body').press('r');
  await expect(pane.locator('.scrubber .mark-error')).toHaveCount(counted);
  const stats = execFileSync(process.execPath, ['bin/loupe.js', 'stats', agentId, '--root', loupe.root, '--json'], { encoding: 'utf8' });
  expect((JSON.parse(stats) as { errors: number }[]).at(-1)?.errors).toBe(counted);
});

test('a global search hit opens its agent with the hit in view', async ({ page, loupe }) => {
  // The hit is far above the end of the output, so the pane must scroll to show it. The marker is
  // computed by the shell so that the recorded command line does not match the search too.
  const { agentId } = await loupe.runAgent(
    'long-run',
    'i=0; while [ $i -lt 1500 ]; do i=$((i+1)); if [ $i -eq 200 ]; then echo "Traceback: unique-marker-$((7000+731)) here"; else echo "line $i"; fi; done; sleep 60',
  );
  await loupe.runAgent('other', 'echo "nothing to see"; sleep 60');
  await openApp(page, loupe);
  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('unique-marker-7731');
  const hit = page.locator(`.gs-hit[data-agent="${agentId}"]`);
  await expect(hit).toHaveCount(1);
  await expect(page.locator('.gs-total')).toHaveText('1');
  await expect(page.locator('.histogram')).toBeVisible();
  await hit.click();
  await expect(page.locator(`.pane[data-agent="${agentId}"]`)).toBeVisible();
  await expectPaneText(page, agentId, 'unique-marker-7731', 'screen');
});
