// Control through the store (SPEC §16): an operator of `loupe serve --store` answers an agent
// waiting on another machine from its pane's reply bar. Everything is real: the agent runs in a
// private tmux server under `loupe run`, the machine's `loupe ship --accept-control` ships its log
// and takes the call from PostgreSQL, and the answer reaches the agent's terminal.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { startPostgres, type TestPostgres } from '../electron/core/store/test-support.js';
import { expect, expectPaneText, test } from './support/loupe.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');
const DIR = 'e2e/screenshots';

let pg: TestPostgres;
const started: ChildProcess[] = [];

/** Starts `loupe ARGS` as a long-running process; with `printsUrl`, resolves with the URL it prints. */
async function spawnLoupe(args: string[], env: NodeJS.ProcessEnv, printsUrl: boolean): Promise<string> {
  const child = spawn(process.execPath, [LOUPE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (!printsUrl) return '';
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https?:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`loupe ${args[0]} exited (${code}): ${stderr}`)));
  });
}

async function addUser(name: string, role: 'viewer' | 'operator'): Promise<string> {
  return (await run(process.execPath, [LOUPE, 'store', 'user', 'add', name, '--role', role, '--store', pg.url])).stdout.trim();
}

async function logIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}?token=${token}`);
  await expect(page.locator('.conn-open')).toBeVisible();
}

test.beforeAll(async () => {
  test.setTimeout(60_000);
  pg = await startPostgres();
});

test.afterAll(async () => {
  for (const child of started) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  pg?.cleanup();
});

test("an operator answers another machine's waiting agent from its pane; the answer reaches the agent and its log names the operator", async ({ page, loupe, browser }) => {
  test.setTimeout(120_000);
  const env = { ...process.env, NO_COLOR: '1', LOUPE_STATE_DIR: loupe.stateDir };
  const { agentId } = await loupe.runAgent('deployer', 'echo "Plan: migrate 3 tables"; printf "Deploy to production? [y/N] "; read a; echo "answer was: $a"; sleep 120');
  await spawnLoupe(['ship', '--to', pg.url, '--root', loupe.root, '--machine', 'buildbox', '--accept-control', '--socket', loupe.socket], env, false);
  const olga = await addUser('olga', 'operator');
  const vera = await addUser('vera', 'viewer');
  const url = await spawnLoupe(['serve', '--store', pg.url, '--port', '0'], env, true);

  await logIn(page, url, olga);
  const row = page.locator(`.tree-machine[data-machine="buildbox"] .agent-row[data-agent="${agentId}"]`);
  await expect(row).toHaveAttribute('data-attention', 'waiting', { timeout: 30_000 });
  await row.click();
  const pane = page.locator(`.pane[data-agent="${agentId}"]`);
  await expectPaneText(page, agentId, 'Deploy to production? [y/N]');
  const bar = pane.locator('.reply-bar');
  await expect(bar).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${DIR}/store-reply.png` });

  // A viewer sees the same agent waiting, with no reply bar.
  const viewerContext = await browser.newContext();
  const viewerPage = await viewerContext.newPage();
  await logIn(viewerPage, url, vera);
  await viewerPage.locator(`.tree-machine[data-machine="buildbox"] .agent-row[data-agent="${agentId}"]`).click();
  await expect(viewerPage.locator(`.pane[data-agent="${agentId}"] .badge-waiting`)).toBeVisible();
  await expect(viewerPage.locator('.reply-bar')).toHaveCount(0);
  await viewerContext.close();

  await bar.getByLabel('Answer text').fill('y');
  await bar.getByLabel('Answer text').press('Enter');
  // The answer travels store → machine → tmux; the agent prints it, that is shipped back.
  await expectPaneText(page, agentId, 'answer was: y', 'all', 30_000);
  await expect(bar).toHaveCount(0, { timeout: 30_000 });
  // The capture daemon writes the answer's control entry beside the pane's output, not before it.
  const ws = path.join(loupe.root, '.agent-workspace');
  const task = fs.readdirSync(ws).find((t) => fs.existsSync(path.join(ws, t, 'logs', `${agentId}_stream.jsonl`)))!;
  const userInput = () =>
    fs.readFileSync(path.join(ws, task, 'logs', `${agentId}_stream.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .find((e) => e.type === 'control' && e.metadata?.event === 'user_input');
  await expect.poll(userInput, { timeout: 15_000 }).toMatchObject({ content: 'y\r', metadata: { by: 'olga (loupe serve --store)' } });
});
