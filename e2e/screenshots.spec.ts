// The README's pictures: main view with the 4 demo agents, in-pane search, filter, global search,
// both themes. They are checked in, so they are only retaken on request:
//   LOUPE_SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLinkedRun } from './support/linkedRun.js';
import { expect, expectPaneText, openApp, test } from './support/loupe.js';

test.setTimeout(180_000);
test.skip(!process.env.LOUPE_SCREENSHOTS, 'set LOUPE_SCREENSHOTS=1 to retake the README screenshots');

const DIR = 'e2e/screenshots';
const DEMO = ['build', 'claude-refactor', 'codex-review', 'migrate'];

test('screenshots of the main views in both themes', async ({ page, loupe }) => {
  await page.setViewportSize({ width: 1360, height: 820 });
  await loupe.loupe('demo');
  await openApp(page, loupe);
  for (const agent of DEMO) await page.locator(`.agent-row[data-agent="${agent}"]`).click();
  // Let the demo run a while so every pane has a screenful.
  await expectPaneText(page, 'migrate', 'aborted', 'all', 80_000);
  await expectPaneText(page, 'build', '[ 60%]', 'all', 80_000);
  await page.locator('.pane[data-agent="migrate"] .pane-head').click();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${DIR}/main-dark.png` });

  await page.locator('body').press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.screenshot({ path: `${DIR}/main-light.png` });
  await page.locator('body').press('t');

  const build = page.locator('.pane[data-agent="build"]');
  await build.getByRole('button', { name: 'Find in pane' }).click();
  await build.locator('.find-input').fill('warning');
  await expect(build.locator('.find-count')).toHaveText(/of \d+/);
  await page.screenshot({ path: `${DIR}/search.png` });
  await page.keyboard.press('Escape');

  const migrate = page.locator('.pane[data-agent="migrate"]');
  await migrate.getByRole('button', { name: 'Filter lines' }).click();
  await migrate.locator('.chip-stderr').click();
  await expect(migrate.locator('.filter-lines .line').first()).toBeVisible();
  await page.screenshot({ path: `${DIR}/filter.png` });

  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('error');
  await expect(page.locator('.gs-hit').first()).toBeVisible();
  await page.screenshot({ path: `${DIR}/global-search.png` });
});

test('screenshots of agents that need you, at device scale factors 1 and 2', async ({ browser, loupe }) => {
  // A deploy script and an Ink app ask something; a build keeps working beside them.
  await loupe.runAgent('deploy', 'echo "Plan: migrate 3 tables, drop users_old"; printf "Do you want to proceed? [y/N] "; read a; sleep 600');
  await loupe.runAgent('claude-ui', `node ${process.cwd()}/electron/core/screen/fixtures/ink-reply.mjs 0.5 hold`);
  await loupe.runAgent('build', 'i=0; while true; do i=$((i+1)); echo "[build] compiling module $i of 900"; sleep 0.3; done');
  for (const scale of [1, 2]) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: scale });
    const page = await context.newPage();
    await openApp(page, loupe);
    await expect(page.locator('.needs-you-row')).toHaveCount(2, { timeout: 60_000 });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${DIR}/needs-you${scale === 2 ? '@2x' : ''}.png` });
    if (scale === 1) {
      // Open it from the group: its pane has the reply bar, with the menu's choices as buttons.
      await page.locator('.needs-you-row[data-agent="claude-ui"]').click();
      await expect(page.locator('.pane[data-agent="claude-ui"] .reply-choice')).toHaveCount(2);
      // Only the answered agent's pane (the first visit opened the newest task's, whichever it is).
      const others = page.locator('.pane:not([data-agent="claude-ui"]) .pane-head').getByRole('button', { name: 'Close pane' });
      while ((await others.count()) > 0) await others.first().click();
      for (const dismiss of await page.locator('.toast').getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click();
      await page.mouse.move(0, 0);
      await page.screenshot({ path: `${DIR}/reply-bar.png` });
    }
    await context.close();
  }
});

test('screenshots of readable panes: 2 × 2 and side by side on a laptop, scale factor 2, Claude Code glyphs', async ({ browser, loupe }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  // A demo of its own: its task is the newest, first in the sidebar, and a first visit opens it.
  await loupe.loupe('demo');
  let page = await context.newPage();
  await openApp(page, loupe);
  for (const agent of DEMO) await page.locator(`.agent-row[data-agent="${agent}"]`).first().click();
  await expectPaneText(page, 'build', '[ 60%]', 'all', 80_000);
  await expectPaneText(page, 'claude-refactor', '⎿', 'all', 80_000);
  await page.locator('body').press('4');
  await page.locator('.pane[data-agent="claude-refactor"] .pane-head').click();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${DIR}/panes-2x2.png` });
  await page.locator('body').press('2');
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${DIR}/panes-side-by-side.png` });
  await context.close();

  // The same two panes on a HiDPI screen, and Claude Code's glyphs up close.
  const hidpi = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  page = await hidpi.newPage();
  await openApp(page, loupe);
  for (const agent of ['claude-refactor', 'codex-review']) await page.locator(`.agent-row[data-agent="${agent}"]`).first().click();
  const others = page.locator('.pane:not([data-agent="claude-refactor"]):not([data-agent="codex-review"]) .pane-head').getByRole('button', { name: 'Close pane' });
  while ((await others.count()) > 0) await others.first().click();
  await page.locator('body').press('2');
  await expectPaneText(page, 'claude-refactor', '⎿', 'all', 80_000);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${DIR}/panes-hidpi@2x.png` });
  await page.locator('.pane[data-agent="claude-refactor"] .pane-head').click();
  await page.locator('body').press('1');
  await page.mouse.move(0, 0);
  await page.locator('.pane[data-agent="claude-refactor"]').screenshot({ path: `${DIR}/claude-glyphs@2x.png` });
  await hidpi.close();
});

test('screenshots of a linked run: the transcript\'s tool calls on the replay scrubber, at scale factors 1 and 2', async ({ browser, loupe }) => {
  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-shots-links-')));
  try {
    const calls = [
      { at: 1.2, tool: 'Read', input: { file_path: 'src/parser.ts' } },
      { at: 2.4, tool: 'Grep', input: { pattern: 'parseHeader' } },
      { at: 4.1, tool: 'Bash', input: { command: 'npm test' } },
      { at: 5.6, tool: 'Edit', input: { file_path: 'src/parser.ts' } },
      { at: 7.3, tool: 'Bash', input: { command: 'npm test -- parser' } },
    ];
    const { terminal, transcript } = await startLinkedRun(loupe, scratch, 'claude', calls, 36);
    for (const scale of [1, 2]) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 640 }, deviceScaleFactor: scale });
      const page = await context.newPage();
      await openApp(page, loupe);
      await page.locator(`.agent-row[data-agent="${terminal}"]`).click();
      const pane = page.locator(`.pane[data-agent="${terminal}"]`);
      await pane.getByRole('button', { name: 'Replay' }).click();
      const bar = pane.locator('.replay-bar');
      await expect(bar.locator('.mark-tool')).toHaveCount(calls.length);
      // The first test run's marker opens the transcript there, and the transcript's Terminal
      // button brings the terminal to the same moment; the picture shows the terminal side.
      await bar.locator('.mark-tool').nth(2).click();
      const transcriptPane = page.locator(`.pane[data-agent="${transcript}"]`);
      await expect(transcriptPane.locator('.replay-bar')).toHaveAttribute('data-seeking', 'false');
      await transcriptPane.getByRole('button', { name: 'Terminal' }).click();
      await expect(bar).toHaveAttribute('data-seeking', 'false');
      await transcriptPane.getByRole('button', { name: 'Close pane' }).click();
      await bar.locator('.mark-tool').nth(2).hover();
      await page.screenshot({ path: `${DIR}/replay-tool-calls${scale === 2 ? '@2x' : ''}.png` });
      await context.close();
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
