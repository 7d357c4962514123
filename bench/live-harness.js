// What the live-view benchmarks share: a temporary root, a private tmux server, a real
// `loupe serve` on a free port, agents started with `loupe run`, and Debian's Chromium showing the
// app. `stop()` kills all of it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from '@playwright/test';

const run = promisify(execFile);
const LOUPE = fileURLToPath(new URL('../bin/loupe.js', import.meta.url));
/** How long `loupe serve` may take to print its URL on a busy 2-core machine. */
const SERVE_START_MS = 60_000;
/** Chromium flags for a headless box with no GPU, no network and no sandbox (root). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it returns a truthy value, or throws after `timeoutMs` naming `what`. */
export async function waitFor(what, cond, timeoutMs, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Resident memory of a process in MB (0 when it is gone). */
export function rssMb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in seconds (0 when it is gone). */
export function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
/** USER_HZ: the unit of /proc/<pid>/stat times on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's descendants (children, their children, …). */
export function descendants(pid) {
  const out = [];
  const walk = (p) => {
    let kids = [];
    try {
      kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // exited meanwhile
    }
    for (const k of kids) {
      out.push(k);
      walk(k);
    }
  };
  walk(pid);
  return out;
}

/** The 1-minute load average, to print beside figures measured on a shared machine. */
/** Ends a private tmux server and removes its socket file, which tmux leaves behind. */
export function killTmuxServer(socket) {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server left
  }
  fs.rmSync(path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, socket), { force: true });
}

export function loadNote() {
  return `load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`;
}

/**
 * Starts tmux on a private socket, `loupe serve` on a temp root and a headless Chromium.
 * @param {{ viewport?: { width: number, height: number } }} [options]
 */
export async function startLive(options = {}) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-live-'));
  const root = path.join(base, 'root');
  fs.mkdirSync(root);
  const socket = `loupe-bench-${randomBytes(4).toString('hex')}`;
  // The capture daemon keeps its records in the temp dir, not in the user's ~/.local/state/loupe.
  const env = { ...process.env, NO_COLOR: '1', LOUPE_STATE_DIR: path.join(base, 'state') };
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const loupe = async (command, ...args) =>
    (await run(process.execPath, [LOUPE, command, '--root', root, '--socket', socket, ...args], { env })).stdout;

  const server = spawn(process.execPath, [LOUPE, 'serve', '--port', '0', '--root', root, '--socket', socket], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d.toString()));
  let browser = null;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    killTmuxServer(socket);
    // The capture daemon exits once its tmux server is gone; give it a moment before removing its files.
    await waitFor('the capture daemon to exit', () => daemonPids(socket).length === 0, 10_000, 100).catch(() => undefined);
    try {
      fs.rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (e) {
      // A capture helper may still be finishing its spool in there; a temp dir left behind is harmless.
      console.error(`note: could not remove ${base}: ${e.message}`);
    }
  };
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`loupe serve printed no URL in ${SERVE_START_MS} ms; stderr: ${stderr}`)), SERVE_START_MS);
      server.stdout.on('data', (d) => {
        out += d.toString();
        const m = /https?:\/\/\S+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      server.once('exit', (code) => reject(new Error(`loupe serve exited (${code}): ${stderr}`)));
    });
    browser = await chromium.launch({ executablePath: process.env.LOUPE_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1440, height: 900 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));

    return {
      root,
      socket,
      url,
      page,
      tmux,
      serverPid: server.pid,
      /** Pids of Chromium's processes (browser, renderer, GPU…): what this process started besides the server. */
      browserPids: () => {
        const serverSide = new Set([server.pid, ...descendants(server.pid)]);
        return descendants(process.pid).filter((p) => !serverSide.has(p));
      },
      /** Pids of the capture daemons watching this bench's tmux socket. */
      daemonPids: () => daemonPids(socket),
      /** Starts an agent with `loupe run`; returns its id and JSONL path. */
      async runAgent(name, command, size = {}) {
        const extra = [...(size.cols ? ['--cols', String(size.cols)] : []), ...(size.rows ? ['--rows', String(size.rows)] : [])];
        const [agentId, logFile] = (await loupe('run', '--name', name, ...extra, '--', ...command)).split('\n');
        return { agentId: agentId.trim(), logFile: logFile.trim() };
      },
      /** Opens the app and waits until it is connected to the server. */
      async openApp() {
        await page.goto(url);
        await page.locator('.conn-open').waitFor({ timeout: 60_000 });
      },
      /** Opens an agent's pane from the sidebar. */
      async openAgent(agentId) {
        await page.locator(`.agent-row[data-agent="${agentId}"]`).click({ timeout: 60_000 });
        await page.locator(`.pane[data-agent="${agentId}"]`).waitFor({ timeout: 60_000 });
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function daemonPids(socket) {
  const pids = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.includes('daemon') && argv.includes(socket)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
