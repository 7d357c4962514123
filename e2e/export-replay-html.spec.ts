/**
 * HTML exports in a real Chromium with every network request blocked (issue 6, RELIABILITY E4):
 * - a replay-html file opens offline with zero attempted requests and no console errors;
 * - scrubbing to the end shows the same screen as `loupe screen`;
 * - hostile content, agent ids, titles and metadata never execute, in html and in replay-html;
 * - the screenshot of a failing demo agent's replay, as a recipient would open it.
 *
 * Runs the compiled CLI and core (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { killTmuxServer, waitForCaptureDaemons } from '../electron/core/capture/test-support.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const dist = (p: string) => pathToFileURL(path.join(REPO, 'dist', p)).href;
/** The fast demo takes a few seconds; a loaded shared machine gets plenty more. */
const DEMO_DEADLINE_MS = 60_000;

/** Roughly a laptop browser window; the screenshot is taken at this size. */
test.use({ viewport: { width: 1100, height: 720 } });

interface Opened {
  /** Requests the page tried to make, other than loading the file itself. */
  requests: string[];
  problems: string[];
  dialogs: string[];
}

/** Opens an exported file as a recipient would (file://), with the network blocked. */
async function openOffline(page: Page, file: string): Promise<Opened> {
  const url = pathToFileURL(file).href;
  const opened: Opened = { requests: [], problems: [], dialogs: [] };
  await page.context().route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    opened.requests.push(route.request().url());
    return route.abort();
  });
  page.on('request', (r) => {
    if (r.url() !== url && !opened.requests.includes(r.url())) opened.requests.push(r.url());
  });
  page.on('requestfailed', (r) => opened.problems.push(`request failed: ${r.url()}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') opened.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => opened.problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    opened.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  return opened;
}

async function waitForReplay(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
}

/**
 * The text of the terminal's visible rows, as shown on the page. xterm's DOM renderer draws them
 * on a frame after a write is parsed (which sets data-settled), so callers poll.
 */
async function pageScreen(page: Page): Promise<string[]> {
  const rows = await page.locator('.xterm-rows > div').allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd());
}

/** What `loupe screen` prints for the agent at the end of its run, one string per row. */
function loupeScreen(root: string, agentId: string): string[] {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), 'screen', agentId, '--root', root], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`loupe screen ${agentId} failed (${r.status}): ${r.stderr}`);
  return r.stdout.replace(/\n$/, '').split('\n').map((row) => row.trimEnd());
}

function loupe(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), ...args], { encoding: 'utf8', cwd, env });
  if (r.status !== 0) throw new Error(`loupe ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

let dir: string;
test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-export-'));
});
test.afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a replay-html export opens offline with no requests and scrubs to the same screen as loupe screen', async ({ page }) => {
  const { writeTestRun } = await import(dist('electron/core/export/testRuns.js'));
  const root = path.join(dir, 'scrub');
  fs.mkdirSync(root);
  const lines = [];
  // Over 512 KiB of output, so playing forward makes keyframes and going back restores one.
  for (let i = 1; i <= 10_000; i++) lines.push({ content: `\x1b[3${i % 8}mline ${i}\x1b[0m wide 日本 ✓ ${'='.repeat(i % 90)}\r` });
  lines.push({ type: 'system', content: '[loupe] resized to 60x20', metadata: { event: 'resized', cols: 60, rows: 20 } });
  for (let i = 1; i <= 30; i++) lines.push({ content: `after the resize ${i} ${'-'.repeat(i * 2)}\r` });
  lines.push({ content: 'progress 10%\r', metadata: { partial: true } });
  lines.push({ content: 'progress 100%' });
  lines.push({ type: 'stderr', content: '\x1b[31mError: something broke\x1b[0m', metadata: { level: 'error' } });
  writeTestRun(root, 'agent-1', lines);
  const file = path.join(dir, 'scrub.html');
  loupe(root, process.env, 'export', 'agent-1', '--format', 'replay-html', '-o', file);

  const opened = await openOffline(page, file);
  await waitForReplay(page);
  expect(await page.locator('#title').textContent()).toBe('agent-1 (TASK-20261121-100000-0a1b2c3d)');
  expect(await page.locator('.marker').count()).toBe(1);

  // Scrub to the start: an empty terminal.
  await page.locator('#scrub').focus();
  await page.keyboard.press('Home');
  await expect(page.locator('body')).toHaveAttribute('data-position', '0');
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
  await expect.poll(async () => (await pageScreen(page)).join('').trim()).toBe('');

  // Scrub to the end: the same screen as `loupe screen` prints.
  await page.keyboard.press('End');
  await expect(page.locator('body')).toHaveAttribute('data-position', await page.locator('body').getAttribute('data-events') ?? '');
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
  const expected = loupeScreen(root, 'agent-1');
  expect(expected).toHaveLength(20);
  expect(expected.join('\n')).toContain('Error: something broke');
  await expect.poll(() => pageScreen(page)).toEqual(expected);

  // One step back restores a keyframe and replays the rest; one step forward is the end again.
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowRight');
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
  await expect.poll(() => pageScreen(page)).toEqual(expected);
  expect(await page.evaluate(() => document.body.dataset.keyframes)).not.toBe('0');

  // Stepping back one event and playing to the end gets there again.
  await page.keyboard.press('ArrowLeft');
  await page.locator('#speed').selectOption('32');
  await page.locator('#play').click();
  await expect(page.locator('#play')).toHaveText('Play', { timeout: 10_000 });
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
  await expect.poll(() => pageScreen(page)).toEqual(expected);

  expect(opened.requests).toEqual([]);
  expect(opened.problems).toEqual([]);
  expect(opened.dialogs).toEqual([]);
});

test('a task exported as replay-html has an agent picker that switches terminals', async ({ page }) => {
  const { writeTestRun } = await import(dist('electron/core/export/testRuns.js'));
  const root = path.join(dir, 'task');
  fs.mkdirSync(root);
  writeTestRun(root, 'planner', [{ content: 'planning the change\r' }, { content: 'plan ready\r' }]);
  writeTestRun(root, 'coder', [{ content: 'editing files\r' }, { type: 'stderr', content: 'Error: tests failed\r', metadata: { level: 'error' } }]);
  const file = path.join(dir, 'task.html');
  loupe(root, process.env, 'export', 'TASK-20261121-100000-0a1b2c3d', '--format', 'replay-html', '-o', file);

  const opened = await openOffline(page, file);
  await waitForReplay(page);
  const picker = page.locator('#agent');
  await expect(picker).toBeVisible();
  expect(await picker.locator('option').allTextContents()).toEqual(['coder  (1 error)', 'planner']);
  await expect(page.locator('.xterm-rows')).toContainText('Error: tests failed');
  await picker.selectOption({ label: 'planner' });
  await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
  await expect(page.locator('.xterm-rows')).toContainText('plan ready');
  await expect(page.locator('.xterm-rows')).not.toContainText('tests failed');
  expect(await page.locator('.marker').count()).toBe(0);
  expect(opened.requests).toEqual([]);
  expect(opened.problems).toEqual([]);
});

/** Payloads that set a flag (or open a dialog) if they ever run. */
const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'onerror\'; alert(1)">',
  '</script><script>window.__pwned = "close-script"</script><!--',
  '"><svg onload="window.__pwned = \'svg\'">',
  '\x1b]8;;javascript:window.__pwned=\'osc8\'\x07click me\x1b]8;;\x07',
  '\x1b]52;c;cHduZWQ=\x07\x1b]0;<script>window.__pwned="title"</script>\x07',
];

for (const format of ['html', 'replay-html'] as const) {
  test(`hostile content, agent ids, titles and metadata never execute in ${format} (E4)`, async ({ page }) => {
    const { writeTestRun } = await import(dist('electron/core/export/testRuns.js'));
    const { exportRunToFile } = await import(dist('electron/core/export/exportRun.js'));
    const root = path.join(dir, `hostile-${format}`);
    fs.mkdirSync(root);
    const log = writeTestRun(
      root,
      'agent-1',
      HOSTILE.map((content) => ({
        content,
        metadata: { level: 'error', command: content, tool_call: content, error: content },
      })),
    );
    const file = path.join(dir, `hostile.${format}.html`);
    // Ids are allow-listed on disk; the HTML layer must hold even if one slipped through.
    const hostileId = '<img src=x onerror="window.__pwned=\'agent\'">';
    await exportRunToFile(
      { agents: [{ ...log, agentId: hostileId, taskId: `</script><script>window.__pwned='task'</script>` }], format, title: HOSTILE[0] },
      file,
    );
    // The CLI path too, with a hostile --title.
    loupe(root, process.env, 'export', 'agent-1', '--format', format, '--title', HOSTILE[1], '-o', path.join(dir, `hostile-cli.${format}.html`));

    for (const target of [file, path.join(dir, `hostile-cli.${format}.html`)]) {
      const opened = await openOffline(page, target);
      if (format === 'replay-html') {
        await waitForReplay(page);
        await page.locator('#scrub').focus();
        await page.keyboard.press('Home');
        await page.keyboard.press('End');
        await expect(page.locator('body')).toHaveAttribute('data-settled', 'true');
        // Clicking where the OSC 8 "link" is must do nothing.
        await page.locator('.xterm-screen').click({ position: { x: 40, y: 60 } });
        // Inline scripts are exactly the five the CSP lists; the run is an inert data block.
        expect(await page.locator('script:not([type])').count()).toBe(5);
      } else {
        expect(await page.locator('script').count()).toBe(0);
        await expect(page.locator('pre')).toContainText('<script>window.__pwned = "script"</script>');
      }
      expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
      expect(await page.locator('img, svg, iframe, object, embed, a[href]').count()).toBe(0);
      expect(opened.dialogs).toEqual([]);
      expect(opened.requests).toEqual([]);
      expect(page.url()).toBe(pathToFileURL(target).href);
      await page.context().unrouteAll();
      page.removeAllListeners();
    }
  });
}

test('screenshot: the failing demo agent exported as replay-html, opened offline', async ({ page }) => {
  test.setTimeout(DEMO_DEADLINE_MS * 2);
  const root = path.join(dir, 'demo');
  fs.mkdirSync(root);
  const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
  const env = { ...process.env, LOUPE_STATE_DIR: path.join(dir, 'state'), HOME: path.join(dir, 'home') };
  delete env.XDG_CONFIG_HOME;
  try {
    loupe(root, env, 'demo', '--fast', '--socket', socket);
    const log = () => {
      const ws = path.join(root, '.agent-workspace');
      const task = fs.readdirSync(ws)[0];
      const file = path.join(ws, task, 'logs', 'migrate_stream.jsonl');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    };
    await expect.poll(() => log().includes('"event":"terminated"'), { timeout: DEMO_DEADLINE_MS }).toBe(true);
    const file = path.join(dir, 'migrate.html');
    const r = loupe(root, env, 'export', 'migrate', '--format', 'replay-html', '-o', file);
    expect(r.stderr).toMatch(/^exported \d+ entries of 1 agent as replay-html to .*migrate\.html: /);

    const opened = await openOffline(page, file);
    await waitForReplay(page);
    await expect(page.locator('.xterm-rows')).toContainText('Traceback');
    await expect.poll(() => pageScreen(page)).toEqual(loupeScreen(root, 'migrate'));
    await expect(page.locator('.marker').first()).toBeVisible();
    fs.mkdirSync(path.join(REPO, 'e2e/screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(REPO, 'e2e/screenshots/export-replay-html.png') });
    expect(opened.requests).toEqual([]);
    expect(opened.problems).toEqual([]);
  } finally {
    killTmuxServer(socket);
    await waitForCaptureDaemons(socket);
  }
});
