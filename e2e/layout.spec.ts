// Layout, open panes, focus and theme survive a restart (reload) of the UI.
import { expect, openAgent, openApp, test } from './support/loupe.js';

test('a restart keeps the layout, the open panes, the focused pane and the theme', async ({ page, loupe }) => {
  for (const name of ['one', 'two', 'three']) await loupe.runAgent(name, `echo "I am ${name}"; sleep 60`);
  await openApp(page, loupe);
  // A first visit opens the newest task's live agent (tasks started within one second tie, so
  // any of the three): start from an empty grid instead.
  await expect(page.locator('.pane')).toHaveCount(1);
  await page.locator('.pane').getByRole('button', { name: 'Close pane' }).click();
  await expect(page.locator('.pane')).toHaveCount(0);
  for (const name of ['one', 'two', 'three']) await openAgent(page, name);
  await page.locator('.seg[data-layout="2"]').click();
  // Three was opened last, so layout 2 shows it alone on the second page; [ focuses two.
  await expect(page.locator('.pane:not(.is-parked)')).toHaveCount(1);
  await page.locator('body').press('[');
  await expect(page.locator('.pane.is-focused')).toHaveAttribute('data-agent', 'two');
  await page.locator('body').press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  // Layout 2 shows the page holding the focused pane: one and two.
  await expect(page.locator('.pane:not(.is-parked)')).toHaveCount(2);

  await page.reload();
  await expect(page.locator('.conn-open')).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(page.locator('.seg[data-layout="2"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.pane')).toHaveCount(3);
  await expect(page.locator('.pane.is-focused')).toHaveAttribute('data-agent', 'two');
  await expect(page.locator('.pane:not(.is-parked)')).toHaveCount(2);

  // Maximize and the single-pane layout by keyboard.
  await page.locator('body').press('m');
  await expect(page.locator('.pane:not(.is-parked)')).toHaveCount(1);
  await expect(page.locator('.pane.is-maximized')).toHaveAttribute('data-agent', 'two');
  await page.locator('body').press('m');
  await page.locator('body').press('0');
  await expect(page.locator('.pane:not(.is-parked)')).toHaveCount(3);
  await page.locator('body').press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.locator('body').press('Escape');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeHidden();
});
