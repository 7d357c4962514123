/**
 * Panes people can read (issue 12):
 * - at device scale factors 1, 1.25, 1.5 and 2 the whole terminal is drawn, corner to corner, in
 *   live and replay panes and in a replay-html export, and the rows shown are the buffer's rows;
 * - the font is fitted to the pane, never below the readable minimum: the newest row stays in
 *   view while following live, and zoom (per pane, for all panes) and the minimum survive a reload;
 * - the glyphs agents print (Claude Code's ⏺ ⎿ ✻ ✶, ❯, box drawing, braille) are drawn, not the
 *   missing-glyph box;
 * - the replay bar in a small pane shows its time in full.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Locator, Page } from '@playwright/test';
import { expect, expectPaneText, openAgent, openApp, test, type LoupeEnv } from './support/loupe.js';

test.setTimeout(180_000);

const COLS = 100;
const ROWS = 30;
/** Red cells at the top left, green at the bottom right, text between: a screen whose corners show. */
const CORNERS_SCRIPT = [
  `printf '\\033[H\\033[2J\\033[41m  \\033[0m top-left\\n'`,
  `i=2; while [ $i -lt ${ROWS - 1} ]; do echo "row $i ⏺ Read(file) ⎿ 20 lines"; i=$((i+1)); done`,
  `printf '\\033[${ROWS};${COLS - 13}Hbottom-right\\033[42m  \\033[0m'`,
  `printf '\\033[${ROWS};1HNEWEST'`,
  'sleep 600',
].join('; ');

/** The rows the page shows, as text. */
async function shownRows(screen: Locator): Promise<string[]> {
  const rows = await screen.locator('.xterm-rows > div').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/**
 * Colour of a screenshot of `screen` at fractions of its width and height, read back through a
 * canvas in the app's page `decoder` (no image library needed): [r, g, b] per point.
 */
async function colorsAt(decoder: Page, screen: Locator, points: [number, number][]): Promise<number[][]> {
  const png = (await screen.screenshot()).toString('base64');
  return decoder.evaluate(
    async ([data, at]) => {
      const image = new Image();
      image.src = `data:image/png;base64,${data}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      return at.map(([fx, fy]) => [...context.getImageData(Math.floor(fx * canvas.width), Math.floor(fy * canvas.height), 1, 1).data.slice(0, 3)]);
    },
    [png, points] as const,
  );
}

// The theme's ANSI red and green backgrounds, told apart from the dark pane and from text.
const isRed = ([r, g, b]: number[]) => r > 150 && r > g + 80 && r > b + 80;
const isGreen = ([r, g, b]: number[]) => g > 110 && g > r + 40 && g > b + 30;

/** The corner cells of a COLS × ROWS screen are drawn where they belong, at this scale. */
async function expectCornersDrawn(decoder: Page, screen: Locator, scale: number): Promise<void> {
  // Half a cell in from each corner: the first cell (red) and the last cell (green).
  const cellX = 0.5 / COLS;
  const cellY = 0.5 / ROWS;
  const [topLeft, bottomRight] = await colorsAt(decoder, screen, [
    [cellX, cellY],
    [1 - cellX, 1 - cellY],
  ]);
  expect(isRed(topLeft), `top-left cell is red at scale ${scale}: ${topLeft}`).toBe(true);
  expect(isGreen(bottomRight), `bottom-right cell is green at scale ${scale}: ${bottomRight}`).toBe(true);
}

async function newPage(browser: Browser, scale: number, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: scale });
  return context.newPage();
}

async function paneScreenText(page: Page, agentId: string): Promise<string[]> {
  const text = await page.evaluate((id) => window.loupeDebug?.paneText(id, 'screen') ?? '', agentId);
  return text.split('\n').map((row) => row.trimEnd());
}

let corners: { agentId: string } | null = null;
async function cornersAgent(loupe: LoupeEnv): Promise<string> {
  corners ??= await loupe.runAgent('corners', CORNERS_SCRIPT, { cols: COLS, rows: ROWS });
  return corners.agentId;
}

for (const scale of [1, 1.25, 1.5, 2]) {
  test(`at device scale factor ${scale} the whole terminal is drawn and shows the buffer's rows`, async ({ browser, loupe }) => {
    const agentId = await cornersAgent(loupe);
    const page = await newPage(browser, scale);
    await openApp(page, loupe);
    await openAgent(page, agentId);
    await expectPaneText(page, agentId, 'NEWEST', 'screen');
    await page.locator('body').press('1');
    const screen = page.locator(`.pane[data-agent="${agentId}"] .term-host .xterm-screen`);
    await expect.poll(async () => (await shownRows(screen)).join('\n')).toBe((await paneScreenText(page, agentId)).join('\n'));
    await expectCornersDrawn(page, screen, scale);
    await page.context().close();
  });
}

test('a replay pane and a replay-html export are drawn whole at scale factor 2', async ({ browser, loupe }) => {
  const agentId = await cornersAgent(loupe);
  const page = await newPage(browser, 2);
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, 'NEWEST', 'screen');
  await page.locator('body').press('1');
  await page.locator(`.pane[data-agent="${agentId}"] .pane-head`).click();
  await page.locator('body').press('r');
  const replay = page.locator(`.pane[data-agent="${agentId}"] .replay-host .xterm-screen`);
  await expect.poll(async () => (await shownRows(replay)).join('\n')).toContain('NEWEST');
  await expectCornersDrawn(page, replay, 2);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-readable-'));
  try {
    const file = path.join(dir, 'corners.html');
    execFileSync(process.execPath, ['bin/loupe.js', 'export', agentId, '--root', loupe.root, '--format', 'replay-html', '-o', file], { stdio: 'pipe' });
    const exported = await newPage(browser, 2);
    await exported.goto(pathToFileURL(file).href);
    await expect(exported.locator('body')).toHaveAttribute('data-state', 'ready');
    await exported.locator('#scrub').focus();
    await exported.keyboard.press('End');
    await expect(exported.locator('body')).toHaveAttribute('data-settled', 'true');
    const screen = exported.locator('#terminal .xterm-screen');
    await expect.poll(async () => (await shownRows(screen)).join('\n')).toContain('NEWEST');
    await expectCornersDrawn(page, screen, 2);
    await exported.context().close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await page.context().close();
});

test('four wide agents in a 2 × 2 grid on a laptop: readable text, newest row in view, replay time in full', async ({ browser, loupe }) => {
  const names = ['wide-1', 'wide-2', 'wide-3', 'wide-4'];
  for (const name of names) {
    await loupe.runAgent(name, `i=1; while [ $i -le 45 ]; do echo "${name} line $i: compiling a module with a long name ........................"; i=$((i+1)); done; echo "Build finished: 13 warnings"; sleep 600`, { cols: 120, rows: 32 });
  }
  const page = await newPage(browser, 1, { width: 1280, height: 800 });
  await openApp(page, loupe);
  for (const name of names) await openAgent(page, name);
  await page.locator('body').press('4');
  for (const name of names) {
    await expectPaneText(page, name, 'Build finished: 13 warnings', 'screen');
    const pane = page.locator(`.pane[data-agent="${name}"]`);
    const host = pane.locator('.term-host');
    await expect.poll(async () => Number(await host.getAttribute('data-font-size'))).toBeGreaterThanOrEqual(11);
    // The newest line is inside the pane's visible area.
    const row = pane.locator('.xterm-rows > div', { hasText: 'Build finished: 13 warnings' });
    await expect.poll(async () => {
      const [r, h] = [await row.boundingBox(), await host.boundingBox()];
      return r !== null && h !== null && r.y >= h.y && r.y + r.height <= h.y + h.height;
    }).toBe(true);
  }

  // Replay in one of the small panes: the run time is shown whole, not cut mid-value.
  const pane = page.locator('.pane[data-agent="wide-1"]');
  await pane.locator('.pane-head').click();
  await page.locator('body').press('r');
  const time = pane.locator('.replay-time');
  await expect(time).toHaveText(/^\d+:\d\d\.\d \/ \d+:\d\d\.\d$/);
  const [timeBox, barBox] = [await time.boundingBox(), await pane.locator('.replay-bar').boundingBox()];
  expect(timeBox!.x + timeBox!.width).toBeLessThanOrEqual(barBox!.x + barBox!.width);
  expect(await time.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)).toBe(true);
  await page.context().close();
});

test('the font fills a big pane, and zoom and the minimum size are kept across a reload', async ({ browser, loupe }) => {
  const { agentId } = await loupe.runAgent('classic', 'for i in 1 2 3 4 5; do echo "classic line $i"; done; sleep 600', { cols: 80, rows: 24 });
  const page = await newPage(browser, 1, { width: 1920, height: 1080 });
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await page.locator(`.pane[data-agent="${agentId}"] .pane-head`).click();
  await page.locator('body').press('1');
  const host = page.locator(`.pane[data-agent="${agentId}"] .term-host`);
  const fontSize = async () => Number(await host.getAttribute('data-font-size'));
  // An 80 × 24 agent alone on a 1920 × 1080 screen: well above the old fixed 13 px.
  await expect.poll(fontSize).toBeGreaterThanOrEqual(18);
  const fitted = await fontSize();

  await page.locator('body').press('-');
  await expect.poll(fontSize).toBeLessThan(fitted);
  await expect(page.locator(`.pane[data-agent="${agentId}"] .badge-zoom`)).toHaveText('91%');
  await page.locator('body').press('Control+=');
  await page.locator('body').press('Control+=');
  await expect(page.getByRole('button', { name: 'Reset text size' })).toHaveText('121%');
  await page.getByLabel('Smallest text').selectOption('14');

  await page.reload();
  await expect(page.locator('.conn-open')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Reset text size' })).toHaveText('121%');
  await expect(page.getByLabel('Smallest text')).toHaveValue('14');
  await page.locator('body').press('Control+0');
  await expect.poll(fontSize).toBe(fitted);
  await page.context().close();
});

test('the glyphs agents print are drawn, not the missing-glyph box', async ({ browser, loupe }) => {
  const glyphs = ['⏺', '⎿', '✻', '✶', '❯', '│', '╭', '╮', '─', '└', '⠋', '⠙', '⠹', '⣿'];
  const { agentId } = await loupe.runAgent('glyphs', `echo '${glyphs.join(' ')}'; sleep 600`);
  const page = await newPage(browser, 1);
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await expectPaneText(page, agentId, glyphs.join(' '));
  const row = page.locator(`.pane[data-agent="${agentId}"] .xterm-rows > div`, { hasText: '⏺' });
  await expect(row).toBeVisible();
  // Draw each glyph in the pane's own font and compare it with a character no font has (U+10FFFD,
  // private use), which every browser draws as the missing-glyph box or nothing.
  const results = await row.evaluate(async (element, chars) => {
    const style = getComputedStyle(element);
    const font = `${style.fontSize} ${style.fontFamily}`;
    await Promise.all(chars.map((c) => document.fonts.load(font, c)));
    const size = Math.ceil(parseFloat(style.fontSize) * 2);
    const draw = (text: string) => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = size;
      const context = canvas.getContext('2d')!;
      context.font = font;
      context.fillStyle = '#000';
      context.textBaseline = 'top';
      context.fillText(text, 2, 2);
      return { pixels: context.getImageData(0, 0, size, size).data, width: context.measureText(text).width };
    };
    const missing = draw('\u{10FFFD}');
    return chars.map((c) => {
      const { pixels, width } = draw(c);
      let ink = 0;
      let differs = false;
      for (let i = 3; i < pixels.length; i += 4) {
        if (pixels[i] > 0) ink++;
        if (pixels[i] !== missing.pixels[i]) differs = true;
      }
      return { c, width, ink, differs };
    });
  }, glyphs);
  for (const { c, width, ink, differs } of results) {
    expect(width, `${c} has a width`).toBeGreaterThan(0);
    expect(ink, `${c} draws something`).toBeGreaterThan(0);
    expect(differs, `${c} is not the missing-glyph box`).toBe(true);
  }
  await page.context().close();
});

test('a pane that scrolls follows the cursor: output at the top stays in view, and so does the newest line further down', async ({ browser, loupe }) => {
  // 200 × 60 on a laptop needs less than the 11 px minimum, so the pane scrolls.
  const { agentId, paneId } = await loupe.runAgent('tall', 'echo "first line at the top"; read go; for i in $(seq 1 80); do echo "more output $i"; done; sleep 600', { cols: 200, rows: 60 });
  const page = await newPage(browser, 1, { width: 1280, height: 800 });
  await openApp(page, loupe);
  await openAgent(page, agentId);
  await page.locator('body').press('1');
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  const host = pane.locator('.term-host');
  await expect(host).toHaveAttribute('data-scrolls', 'true');
  const inView = async (text: string) => {
    const row = pane.locator('.xterm-rows > div', { hasText: text });
    const [r, h] = [await row.boundingBox(), await host.boundingBox()];
    return r !== null && h !== null && r.y >= h.y && r.y + r.height <= h.y + h.height;
  };
  await expect.poll(() => inView('first line at the top')).toBe(true);
  await loupe.tmux('send-keys', '-t', paneId, 'Enter');
  await expect.poll(() => inView('more output 80')).toBe(true);
  await page.context().close();
});
