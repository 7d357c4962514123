/**
 * What every UI spec needs: a temporary root, a private tmux server, a real `loupe serve` on a free
 * port, helpers to run `loupe`/tmux commands, and a page fixture that fails the test on any console
 * error or uncaught exception.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test as base, expect, type Page } from '@playwright/test';
import { killTmuxServer, waitForCaptureDaemons } from '../../electron/core/capture/test-support.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');
/** How long `loupe serve` may take to print its URL on a busy 2-core machine. */
const SERVE_START_MS = 30_000;

export interface LoupeEnv {
  root: string;
  socket: string;
  /** The LOUPE_STATE_DIR of this server and its capture daemons. */
  stateDir: string;
  url: string;
  /** Runs `loupe <args>` against this root and socket; returns stdout. */
  loupe(...args: string[]): Promise<string>;
  /** Runs `tmux -L <socket> <args>`; returns stdout. */
  tmux(...args: string[]): Promise<string>;
  /** Starts an agent with `loupe run` and returns its agent id and tmux pane id. */
  runAgent(name: string, command: string, options?: { cols?: number; rows?: number }): Promise<{ agentId: string; paneId: string }>;
  /** Starts a second, read-only `loupe serve` (no --allow-control) on the same root and socket; returns its URL. */
  serveReadOnly(): Promise<string>;
  stop(): Promise<void>;
}

/** `loupe serve` on a free port; resolves with its printed URL. */
async function startServe(root: string, socket: string, env: NodeJS.ProcessEnv, allowControl: boolean): Promise<{ server: ChildProcess; url: string }> {
  const args = [LOUPE, 'serve', '--port', '0', '--root', root, '--socket', socket, ...(allowControl ? ['--allow-control'] : [])];
  const server: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`loupe serve printed no URL in ${SERVE_START_MS} ms; stderr: ${stderr}`)), SERVE_START_MS);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https?:\/\/\S+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    server.once('exit', (code) => reject(new Error(`loupe serve exited (${code}): ${stderr}`)));
  });
  return { server, url };
}

/** Starts a private tmux socket, a temp root and `loupe serve` on them. */
export async function startLoupe(): Promise<LoupeEnv> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-'));
  const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
  // Capture daemons keep their records here, not in the user's ~/.local/state/loupe.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-e2e-state-'));
  const env = { ...process.env, NO_COLOR: '1', LOUPE_STATE_DIR: stateDir };
  const tmux = async (...args: string[]) => (await run('tmux', ['-L', socket, ...args])).stdout;
  const loupe = async (...args: string[]) => {
    const [command, ...rest] = args;
    return (await run(process.execPath, [LOUPE, command, '--root', root, '--socket', socket, ...rest], { env })).stdout;
  };
  // --allow-control: the specs attach panes and start agents from the UI.
  const { server, url } = await startServe(root, socket, env, true);
  const extraServers: ChildProcess[] = [];

  return {
    root,
    socket,
    stateDir,
    url,
    async serveReadOnly() {
      const started = await startServe(root, socket, env, false);
      extraServers.push(started.server);
      return started.url;
    },
    loupe,
    tmux,
    async runAgent(name, command, options = {}) {
      const extra = [...(options.cols ? ['--cols', String(options.cols)] : []), ...(options.rows ? ['--rows', String(options.rows)] : [])];
      const out = await loupe('run', '--name', name, ...extra, '--', 'sh', '-c', command);
      const agentId = out.split('\n')[0].trim();
      const panes = await tmux('list-panes', '-a', '-F', '#{pane_id} #{session_name}');
      const line = panes.split('\n').find((l) => l.split(' ')[1]?.startsWith(`loupe-${agentId}-`));
      if (!line) throw new Error(`no tmux pane for agent ${agentId} in:\n${panes}`);
      return { agentId, paneId: line.split(' ')[0] };
    },
    async stop() {
      for (const extra of extraServers) if (extra.exitCode === null) extra.kill('SIGTERM');
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      killTmuxServer(socket);
      // The capture daemon finishes its captures (and writes its records) once the server is gone.
      await waitForCaptureDaemons(socket);
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** Console messages that are not the app's errors (Chromium's software GL chatter). */
const IGNORED_CONSOLE = [/GL Driver Message/, /GPU stall/];

/**
 * The server of the spec file being run. Playwright reuses a worker for several files, so a
 * worker-scoped server would be shared between files (one file's demo agents showing up in the
 * next); instead the first test of each file starts a fresh one and stops the previous file's.
 */
let fileServer: { file: string; env: LoupeEnv } | null = null;

async function stopFileServer(): Promise<void> {
  const current = fileServer;
  fileServer = null;
  await current?.env.stop();
}

/**
 * The Playwright `test` with `loupe` (one server per spec file) and a `page` that fails its test on
 * console errors and uncaught exceptions.
 */
export const test = base.extend<{ consoleErrors: string[]; loupe: LoupeEnv }, { stopServerAtEnd: void }>({
  loupe: async ({}, use, testInfo) => {
    if (fileServer?.file !== testInfo.file) {
      await stopFileServer();
      fileServer = { file: testInfo.file, env: await startLoupe() };
    }
    await use(fileServer.env);
  },
  stopServerAtEnd: [
    async ({}, use) => {
      await use();
      await stopFileServer();
    },
    { scope: 'worker', auto: true, timeout: 60_000 },
  ],
  consoleErrors: [
    async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !IGNORED_CONSOLE.some((re) => re.test(m.text()))) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    await use(errors);
    expect(errors, 'console errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Opens the UI and waits until the backend answered. */
export async function openApp(page: Page, env: LoupeEnv): Promise<void> {
  await page.goto(env.url);
  await expect(page.locator('.conn-open')).toBeVisible();
}

/** The text an agent's pane holds (whole buffer, or just the lines on screen). */
export async function paneText(page: Page, agentId: string, scope: 'screen' | 'all' = 'all'): Promise<string> {
  return page.evaluate(([id, s]) => window.loupeDebug?.paneText(id, s as 'screen' | 'all') ?? '', [agentId, scope] as const);
}

/** Waits until an agent's pane contains `text`. */
export async function expectPaneText(page: Page, agentId: string, text: string | RegExp, scope: 'screen' | 'all' = 'all', timeout?: number): Promise<void> {
  await expect
    .poll(() => paneText(page, agentId, scope), { message: `pane ${agentId} shows ${String(text)}`, ...(timeout ? { timeout } : {}) })
    .toMatch(typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text);
}

/** Opens an agent from the sidebar. */
export async function openAgent(page: Page, agentId: string): Promise<void> {
  await page.locator(`.agent-row[data-agent="${agentId}"]`).click();
  await expect(page.locator(`.pane[data-agent="${agentId}"]`)).toBeVisible();
}

declare global {
  interface Window {
    loupeDebug?: { paneText(agentId: string, scope?: 'screen' | 'all'): string | null };
  }
}
