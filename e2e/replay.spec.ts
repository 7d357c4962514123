// Replay mode: scrub to the traceback of a finished demo agent, play/pause/step, a global search
// hit and a deep link open the replay at their moment, and "Back to live" resumes streaming.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { expect, expectPaneText, openAgent, openApp, paneText, test, type LoupeEnv } from './support/loupe.js';

const run = promisify(execFile);
const SCREENSHOTS = path.resolve('e2e/screenshots');

/** `loupe screen` of an agent after entry `seq`: the CLI's headless rendering of that moment. */
async function cliScreen(loupe: LoupeEnv, agentId: string, seq: number): Promise<string> {
  const { stdout } = await run(process.execPath, [path.resolve('bin/loupe.js'), 'screen', agentId, '--root', loupe.root, '--seq', String(seq)]);
  return stdout;
}

/** Screen text without trailing blanks at line ends and without trailing empty lines, to compare. */
function normalize(screen: string): string {
  return screen
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

function replayBar(page: Page, agentId: string) {
  return page.locator(`.pane[data-agent="${agentId}"] .replay-bar`);
}

/** Waits until the replay has no seek on its way, and returns the entry it shows. */
async function settledSeq(page: Page, agentId: string): Promise<number> {
  const bar = replayBar(page, agentId);
  await expect(bar).toHaveAttribute('data-seeking', 'false');
  return Number(await bar.getAttribute('data-seq'));
}

/** Waits for an agent's run to end (its log has a terminated entry). */
async function waitForEnd(loupe: LoupeEnv, agentId: string): Promise<void> {
  await expect
    .poll(async () => JSON.parse(await loupe.loupe('ls', '--json')).roots.flatMap((r: { tasks: { agents: { agentId: string; state: string }[] }[] }) => r.tasks.flatMap((t) => t.agents)).find((a: { agentId: string }) => a.agentId === agentId)?.state, {
      message: `${agentId} ends`,
      timeout: 60_000,
    })
    .toBe('ended');
}

test('dragging the scrubber to the traceback of a finished demo agent shows the screen as it was', async ({ page, loupe }) => {
  test.setTimeout(180_000); // the demo runs at its real pace on a shared 2-core machine
  // The demo at its real pace (about 15 s for migrate), so the timeline has a shape to scrub through.
  await loupe.loupe('demo');
  await waitForEnd(loupe, 'migrate');
  await openApp(page, loupe);
  await openAgent(page, 'migrate');
  const pane = page.locator('.pane[data-agent="migrate"]');
  await pane.getByRole('button', { name: 'Replay' }).click();
  await expect(pane.locator('.badge-replay')).toBeVisible();
  const bar = replayBar(page, 'migrate');
  const scrubber = bar.locator('.scrubber');
  const marker = bar.locator('.mark-error').first();
  await expect(marker).toBeVisible();
  await page.keyboard.press('m'); // maximize, for the screenshot

  // Press at the middle of the run: the migration is still going, no traceback yet.
  const track = (await scrubber.boundingBox())!;
  const mark = (await marker.boundingBox())!;
  await page.mouse.move(track.x + track.width / 2, track.y + track.height / 2);
  await page.mouse.down();
  await settledSeq(page, 'migrate');
  await expectPaneText(page, 'migrate', 'Migrating users', 'screen');
  expect(await paneText(page, 'migrate', 'screen')).not.toContain('Traceback');
  // Then drag onto the first error marker, as a user would.
  await page.mouse.move(mark.x + mark.width / 2, track.y + track.height / 2, { steps: 8 });
  await page.mouse.up();
  const seq = await settledSeq(page, 'migrate');
  const markerSeqs = await bar.locator('.mark-error').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(markerSeqs).toContain(seq);
  await expectPaneText(page, 'migrate', 'Traceback (most recent call last)', 'screen');
  // The pane shows exactly what the CLI renders headlessly for that moment.
  await expect.poll(async () => normalize(await paneText(page, 'migrate', 'screen'))).toBe(normalize(await cliScreen(loupe, 'migrate', seq)));

  // The README's pictures are retaken on request only, so test runs leave the checkout clean.
  if (process.env.LOUPE_SCREENSHOTS) {
    await pane.screenshot({ path: path.join(SCREENSHOTS, 'replay-traceback.png') });
    await page.keyboard.press('t');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    await pane.screenshot({ path: path.join(SCREENSHOTS, 'replay-traceback-light.png') });
    await page.keyboard.press('t');
  }
});

test('play at 8x, pause, and step by entry', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent('ticker', 'i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo "tick $i"; sleep 0.6; done');
  await waitForEnd(loupe, agentId);
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await page.locator(`.pane[data-agent="${agentId}"]`).click();
  await page.keyboard.press('r');
  const bar = replayBar(page, agentId);
  await expect(bar.locator('.scrubber-svg')).toBeVisible();
  await settledSeq(page, agentId);
  // Digit 0 jumps to the start of the run.
  await page.keyboard.press('0');
  const start = await settledSeq(page, agentId);
  expect(await paneText(page, agentId, 'screen')).not.toContain('tick 1');

  await bar.getByLabel('Speed').selectOption('8');
  await expect(bar).toHaveAttribute('data-speed', '8');
  await page.keyboard.press(' ');
  await expect(bar).toHaveAttribute('data-playing', 'true');
  await expectPaneText(page, agentId, 'tick 5', 'screen');
  await page.keyboard.press(' ');
  await expect(bar).toHaveAttribute('data-playing', 'false');
  const paused = Number(await bar.getAttribute('data-seq'));
  expect(paused).toBeGreaterThan(start);
  // Paused means paused: a few frames later the position has not moved.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 300)))));
  expect(Number(await bar.getAttribute('data-seq'))).toBe(paused);

  const shown = normalize(await paneText(page, agentId, 'screen'));
  const lastTick = Number(/tick (\d+)\s*$/.exec(shown)?.[1] ?? 0);
  // Step forward writes exactly the next entry; step back returns to the screen before it.
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => Number(await bar.getAttribute('data-seq'))).toBeGreaterThan(paused);
  await expectPaneText(page, agentId, `tick ${lastTick + 1}`, 'screen');
  expect(await paneText(page, agentId, 'screen')).not.toContain(`tick ${lastTick + 2}`);
  const stepped = Number(await bar.getAttribute('data-seq'));
  await page.keyboard.press('ArrowLeft');
  await expect.poll(() => settledSeq(page, agentId)).toBe(stepped - 1);
  await expect.poll(async () => normalize(await paneText(page, agentId, 'screen'))).toBe(normalize(await cliScreen(loupe, agentId, stepped - 1)));

  // Playing on at 8x reaches the end of the run, and pauses there.
  await page.keyboard.press(' ');
  await expect(bar).toHaveAttribute('data-at-end', 'true', { timeout: 30_000 });
  await expect(bar).toHaveAttribute('data-playing', 'false');
  await expectPaneText(page, agentId, 'tick 20', 'screen');
});

test('a global search hit and a deep link open the replay at their moment', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent(
    'searched',
    'i=0; while [ $i -lt 300 ]; do i=$((i+1)); if [ $i -eq 120 ]; then echo "Traceback: replay-marker-$((4000+321)) here"; else echo "row $i"; fi; done; sleep 60',
  );
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'row 300');
  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('replay-marker-4321');
  const hit = page.locator(`.gs-hit[data-agent="${agentId}"]`);
  await expect(hit).toHaveCount(1);
  const hitSeq = Number(await hit.getAttribute('data-sequence'));
  await hit.click();
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  await expect(pane.locator('.badge-replay')).toBeVisible();
  expect(await settledSeq(page, agentId)).toBe(hitSeq);
  // The hit is the last line written at that moment: what came after it is not there yet.
  await expectPaneText(page, agentId, 'replay-marker-4321', 'screen');
  const screen = normalize(await paneText(page, agentId, 'screen'));
  expect(screen.split('\n').at(-1)).toContain('replay-marker-4321');
  expect(screen).not.toContain('row 121');

  // A deep link to another moment of the same run.
  await page.evaluate((id) => (location.hash = `#/agent/${id}?seq=40`), agentId);
  await expect.poll(() => settledSeq(page, agentId)).toBe(40);
  await expect.poll(async () => normalize(await paneText(page, agentId, 'screen'))).toBe(normalize(await cliScreen(loupe, agentId, 40)));

  // Opening the web view with a link in its address goes straight to that moment.
  await page.goto(`${loupe.url}#/agent/${agentId}?seq=60`);
  await expect(page.locator(`.pane[data-agent="${agentId}"] .badge-replay`)).toBeVisible();
  await expect.poll(() => settledSeq(page, agentId)).toBe(60);
  await expectPaneText(page, agentId, 'row 59', 'screen');
});

test('"Back to live" returns to the live terminal, which keeps streaming', async ({ page, loupe }) => {
  const { agentId, paneId } = await loupe.runAgent('liveish', 'echo "before replay"; exec sh');
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'before replay');
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  await pane.getByRole('button', { name: 'Replay' }).click();
  await expect(pane.locator('.replay-bar')).toBeVisible();
  await settledSeq(page, agentId);
  // Output written while the pane is in replay is not lost.
  await loupe.tmux('send-keys', '-t', paneId, 'echo "during $((20+1)) replay"', 'Enter');
  await pane.locator('.replay-live').click();
  await expect(pane.locator('.replay-bar')).toBeHidden();
  await expect(pane.locator('.badge-replay')).toBeHidden();
  await expectPaneText(page, agentId, 'during 21 replay');
  await loupe.tmux('send-keys', '-t', paneId, 'echo "after $((40+2)) live"', 'Enter');
  await expectPaneText(page, agentId, 'after 42 live');
});

test('hostile output replayed into a replay pane changes neither the page title nor its URL (E3)', async ({ page, loupe }) => {
  const { agentId } = await loupe.runAgent(
    'hostile-replay',
    `printf '\\033]0;<img src=x onerror=alert(1)>pwned\\007\\033]52;c;aGVsbG8=\\007\\033[c\\033[6n\\033]8;;javascript:alert(1)\\007click\\033]8;;\\007 after-hostile\\n'`,
  );
  await waitForEnd(loupe, agentId);
  await openApp(page, loupe);
  const title = await page.title();
  const url = page.url();
  await openAgent(page, agentId);
  await page.locator(`.pane[data-agent="${agentId}"]`).getByRole('button', { name: 'Replay' }).click();
  await settledSeq(page, agentId);
  await expectPaneText(page, agentId, 'after-hostile', 'screen');
  // Play it through once more from the start, as frames rather than a restored screen.
  await page.keyboard.press('0');
  await settledSeq(page, agentId);
  await page.keyboard.press(' ');
  await expect(replayBar(page, agentId)).toHaveAttribute('data-at-end', 'true');
  await expectPaneText(page, agentId, 'after-hostile', 'screen');
  expect(await page.title()).toBe(title);
  expect(page.url()).toBe(url);
});
