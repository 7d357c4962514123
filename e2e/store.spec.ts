// `loupe serve --store`: the UI over a real PostgreSQL that two machines ship to (SPEC §16). The
// machines' logs are written with the real log writer and shipped with the real `loupe ship`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { appendTestLines, startPostgres, writeTestAgent, type TestAgent, type TestPostgres } from '../electron/core/store/test-support.js';
import { expect, expectPaneText, paneText, test } from './support/loupe.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');
const TASK = 'TASK-20261202-080000-3d4e5f60';
const DIR = 'e2e/screenshots';

let pg: TestPostgres;
let base: string;
let laptop: string;
let buildbox: string;
let watcher: TestAgent;
let serve: ChildProcess;
let url: string;
/** A viewer's token, from `loupe store user add`: the store's users are `serve --store`'s tokens. */
let viewerToken: string;

/** `loupe ship --once` of one machine's root. */
async function ship(root: string, machine: string): Promise<void> {
  await run(process.execPath, [LOUPE, 'ship', '--to', pg.url, '--root', root, '--machine', machine, '--once']);
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  pg = await startPostgres();
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-store-')));
  laptop = path.join(base, 'laptop', 'webapp');
  buildbox = path.join(base, 'buildbox', 'ci');
  // Now-ish, so the live agent is "working" and the sidebar's times are recent.
  const now = Date.now() * 1000 - 60_000_000;
  watcher = writeTestAgent(laptop, TASK, 'watcher', { lines: 30, baseUs: now, live: true });
  writeTestAgent(laptop, TASK, 'linter', { lines: 8, baseUs: now + 5000, exitStatus: 0 });
  writeTestAgent(buildbox, TASK, 'builder', { lines: 40, baseUs: now + 10_000, exitStatus: 1 });
  await ship(laptop, 'laptop');
  await ship(buildbox, 'buildbox');
  viewerToken = (await run(process.execPath, [LOUPE, 'store', 'user', 'add', 'vera', '--role', 'viewer', '--store', pg.url])).stdout.trim();
  serve = spawn(process.execPath, [LOUPE, 'serve', '--store', pg.url, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  serve.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https?:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    serve.once('exit', (code) => reject(new Error(`loupe serve --store exited (${code}): ${stderr}`)));
  });
});

test.afterAll(async () => {
  watcher?.writer.closeSync();
  if (serve?.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  pg?.cleanup();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

async function open(page: Page): Promise<void> {
  await page.goto(`${url}?token=${viewerToken}`);
  await expect(page.locator('.conn-open')).toBeVisible();
}

const agentRow = (page: Page, machine: string, agentId: string) => page.locator(`.tree-machine[data-machine="${machine}"] .agent-row[data-agent="${agentId}"]`);

test('the sidebar has both machines, and a pane of each follows what is shipped after the page loaded', async ({ page }) => {
  await open(page);
  await expect(page.locator('.section-title').first()).toHaveText('Machines');
  await expect(page.locator('.machine-name')).toHaveText(['buildbox', 'laptop']);
  await expect(page.locator('.tree-machine[data-machine="laptop"] .root-name')).toHaveText('webapp');
  await expect(page.getByText('tmux panes not captured')).toHaveCount(0);
  await agentRow(page, 'laptop', 'watcher').click();
  await agentRow(page, 'buildbox', 'builder').click();
  await expect(page.locator('.pane[data-agent="watcher"] .pane-machine')).toHaveText('laptop');
  await expect(page.locator('.pane[data-agent="builder"] .pane-machine')).toHaveText('buildbox');
  await expectPaneText(page, 'builder', 'step 40 of builder');
  await expectPaneText(page, 'watcher', 'step 30 of watcher');
  await expect(page.locator('.pane[data-agent="builder"] .pane-status')).toContainText('exit 1');

  appendTestLines(watcher, 5, Date.now() * 1000 - 1_000_000, 'shipped-after-load');
  await ship(laptop, 'laptop');
  await expectPaneText(page, 'watcher', 'shipped-after-load 35 of watcher');
});

test('the printed URL has no token: without a user token the page is refused, with one it loads', async ({ page }) => {
  expect(url).not.toContain('token=');
  expect((await page.request.get(url)).status()).toBe(401);
  await open(page);
  // The token went into the cookie and out of the address bar.
  expect(page.url()).toBe(url);
});

test('global search finds lines of both machines, and names each hit\'s machine', async ({ page }) => {
  await open(page);
  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('traceback');
  // One group per agent: builder (buildbox), watcher and linter (laptop).
  await expect.poll(async () => new Set(await page.locator('.gs-group-head .gs-machine').allTextContents())).toEqual(new Set(['laptop', 'buildbox']));
  await page.locator('.gs-hit[data-agent="builder"]').first().click();
  await expect(page.locator('.pane[data-agent="builder"]')).toBeVisible();
});

test('a search hit of a store agent opens its replay at that moment, and the replay seeks', async ({ page }) => {
  await open(page);
  await page.keyboard.press('Control+Shift+F');
  await page.getByLabel('Search all agents').fill('step 14 of builder');
  const hit = page.locator('.gs-hit[data-agent="builder"]');
  await expect(hit).toHaveCount(1);
  const hitSeq = Number(await hit.getAttribute('data-sequence'));
  await hit.click();
  const pane = page.locator('.pane[data-agent="builder"]');
  await expect(pane.locator('.badge-replay')).toBeVisible();
  const bar = pane.locator('.replay-bar');
  await expect(bar).toHaveAttribute('data-seeking', 'false');
  expect(Number(await bar.getAttribute('data-seq'))).toBe(hitSeq);
  // The screen as it was then: the failed step is the last line, the later ones are not there yet.
  await expectPaneText(page, 'builder', 'Traceback: step 14 of builder failed', 'screen');
  expect(await paneText(page, 'builder', 'screen')).not.toContain('step 15 of builder');
  // Stepping on replays the next entry from the local copy.
  await pane.locator('.replay-bar').getByRole('button', { name: /step forward/i }).click();
  await expect(bar).toHaveAttribute('data-seq', String(hitSeq + 1));
  await expectPaneText(page, 'builder', 'step 15 of builder', 'screen');
});

test('a store agent\'s export dialog previews its entries and downloads its text', async ({ page }) => {
  await open(page);
  await agentRow(page, 'buildbox', 'builder').click();
  await expectPaneText(page, 'builder', 'step 40 of builder');
  await page.locator('.pane[data-agent="builder"] button[aria-label="Export"]').click();
  const dialog = page.getByRole('dialog', { name: 'Export builder' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('42 entries');
  await dialog.getByRole('radio', { name: /Text/ }).check();
  const [file] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download' }).click()]);
  expect(file.suggestedFilename()).toBe('builder.txt');
  const text = fs.readFileSync(await file.path(), 'utf8');
  expect(text).toContain('Traceback: step 34 of builder failed');
  expect(text).toContain('step 40 of builder');
});

test('screenshots of the store view at device scale factors 1 and 2', async ({ browser }) => {
  test.skip(!process.env.LOUPE_SCREENSHOTS, 'set LOUPE_SCREENSHOTS=1 to retake the README screenshots');
  for (const scale of [1, 2]) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: scale });
    const page = await context.newPage();
    await open(page);
    await agentRow(page, 'laptop', 'watcher').click();
    await agentRow(page, 'buildbox', 'builder').click();
    await expectPaneText(page, 'builder', 'step 40 of builder');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${DIR}/serve-store${scale === 2 ? '@2x' : ''}.png` });
    await context.close();
  }
});
