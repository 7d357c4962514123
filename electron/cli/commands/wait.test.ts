/**
 * Attention with real tmux and real programs (SPEC §13), through the built CLI: `loupe run` on a
 * private socket, then `loupe wait` and `loupe ls --json` as a script would use them.
 * Needs `tsc -b` first (`npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attention } from '../../../shared/ipc.js';
import { killTmuxServer, waitForCaptureDaemons } from '../../core/capture/test-support.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, '../../../bin/loupe.js');
const INK_FIXTURE = path.resolve(HERE, '../../core/screen/fixtures/ink-reply.mjs');
const SOCKET = `loupe-test-wait-${process.pid}`;
let root: string;
let env: NodeJS.ProcessEnv;

function loupe(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, env, timeout: 60_000 });
}

function run(name: string, script: string): void {
  const r = loupe('run', '--socket', SOCKET, '--root', root, '--name', name, '--', 'sh', '-c', script);
  expect(r.status, r.stderr).toBe(0);
}

function attentionOf(agent: string): Attention {
  const r = loupe('ls', '--json', '--root', root, '--socket', SOCKET);
  expect(r.status, r.stderr).toBe(0);
  const ws = JSON.parse(r.stdout) as { roots: { tasks: { agents: { agentId: string; attention: Attention }[] }[] }[] };
  return ws.roots.flatMap((x) => x.tasks.flatMap((t) => t.agents)).find((a) => a.agentId === agent)!.attention;
}

function waitFor(agent: string, state: string, timeout = 30) {
  return loupe('wait', agent, '--for', state, '--timeout', String(timeout), '--json', '--root', root, '--socket', SOCKET);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-wait-'));
  env = { ...process.env, LOUPE_STATE_DIR: path.join(root, '.state') };
});

afterAll(async () => {
  killTmuxServer(SOCKET);
  await waitForCaptureDaemons(SOCKET);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('attention of real programs (loupe wait, loupe ls --json)', () => {
  it('a script blocked on "Do you want to proceed? [y/N]" is waiting with that question, and not once answered', () => {
    run('asker', 'echo "Plan: delete 3 files"; printf "Do you want to proceed? [y/N] "; read answer; echo "answer: $answer"; sleep 60');
    const r = waitFor('asker', 'waiting');
    expect(r.status, r.stderr).toBe(0);
    const waiting = JSON.parse(r.stdout) as Attention;
    expect(waiting).toMatchObject({ state: 'waiting', reason: 'prompt on screen (rule yes-no)' });
    expect(waiting.prompt).toContain('Do you want to proceed? [y/N]');
    expect(waiting.prompt).toContain('Plan: delete 3 files');
    spawnSync('tmux', ['-L', SOCKET, 'send-keys', '-t', 'loupe-asker', 'y', 'Enter']);
    // Answered: the next look finds output after the prompt and no question at the cursor.
    const deadline = Date.now() + 10_000;
    let state = attentionOf('asker').state;
    while (state === 'waiting' && Date.now() < deadline) state = attentionOf('asker').state;
    expect(state).not.toBe('waiting');
  });

  it('a \\r spinner is working, a program that printed and sleeps is idle, an exited one is ended', () => {
    run('spinner', 'while true; do for c in / - "\\\\" "|"; do printf "\\r%s compiling" "$c"; sleep 0.1; done; done');
    run('sleeper', 'echo "all done"; sleep 120');
    run('quitter', 'echo bye');
    expect(JSON.parse(waitFor('sleeper', 'idle').stdout)).toMatchObject({ state: 'idle' });
    expect(JSON.parse(waitFor('quitter', 'ended').stdout)).toMatchObject({ state: 'ended', reason: 'the run ended' });
    // The spinner never stops: waiting for it to be anything but working times out, with status 1.
    const r = waitFor('spinner', 'any', 3);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/spinner is still working after 3 s/);
  });

  it('a program reading its terminal after a question no rule knows is waiting; a shell at its prompt is not', () => {
    run('namer', 'echo "Setting up the release"; printf "Release name: "; read name; echo "named $name"; sleep 60');
    run('shell', 'PS1="$ " exec sh -i');
    const waiting = JSON.parse(waitFor('namer', 'waiting').stdout) as Attention;
    expect(waiting).toMatchObject({ reason: 'its program waits to read an answer from the terminal' });
    expect(waiting.prompt).toContain('Release name:');
    expect(JSON.parse(waitFor('shell', 'idle').stdout)).toMatchObject({ state: 'idle' });
  });

  it('a build log that prints "(y/n)" and "? " while output keeps flowing is never waiting', () => {
    run('builder', 'i=0; while [ $i -lt 60 ]; do echo "step $i: prompt (y/n) skipped in CI"; echo "? $i files changed"; sleep 0.1; i=$((i+1)); done; sleep 60');
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      seen.add(attentionOf('builder').state);
      spawnSync('sleep', ['0.8']);
    }
    expect([...seen]).not.toContain('waiting');
  });

  it('an Ink app that ends on a boxed numbered prompt is waiting with the box', () => {
    run('ink', `node ${INK_FIXTURE} 0.5 hold`);
    const r = waitFor('ink', 'waiting');
    expect(r.status, r.stderr).toBe(0);
    const waiting = JSON.parse(r.stdout) as Attention;
    expect(waiting.prompt).toMatch(/Do you want to proceed\?\n❯ 1\. Yes\n {2}2\. No/);
  });

  it('a program that rings the bell, or sends OSC 9, after printing is waiting, with what it asks', () => {
    run('beller', 'printf "Review the diff, then continue\\a"; sleep 60');
    run('notifier', 'printf "working on it\\r\\n\\033]9;Build needs your approval\\007"; sleep 60');
    const bell = JSON.parse(waitFor('beller', 'waiting').stdout) as Attention;
    expect(bell).toMatchObject({ reason: 'the terminal bell after the last output', prompt: 'Review the diff, then continue' });
    const osc = JSON.parse(waitFor('notifier', 'waiting').stdout) as Attention;
    expect(osc).toMatchObject({ reason: 'a notification (OSC9) after the last output', prompt: 'Build needs your approval' });
  });

  it('answers bad input with a clear message and status 2', () => {
    expect(loupe('wait', 'asker', '--for', 'sleeping', '--root', root).stderr).toMatch(/--for "sleeping" is not a state to wait for; use waiting, idle, ended or any/);
    expect(loupe('wait', 'asker', '--timeout', 'soon', '--root', root).status).toBe(2);
    const missing = loupe('wait', 'nobody', '--root', root);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no agent "nobody"/);
  });
});

/**
 * The real agents, installed from npm in a scratch folder (they start without network):
 * `LOUPE_AGENTS_BIN=/tmp/agents/node_modules/.bin` after
 * `npm install @anthropic-ai/claude-code @openai/codex` there. Skipped, saying so, without them.
 */
const AGENTS_BIN = process.env.LOUPE_AGENTS_BIN ?? '';
const hasAgent = (name: string) => AGENTS_BIN !== '' && fs.existsSync(path.join(AGENTS_BIN, name));

describe('attention of real agents (LOUPE_AGENTS_BIN)', () => {
  it("Claude Code's folder-trust dialog is waiting with its question, and not once answered", (ctx) => {
    if (!hasAgent('claude')) {
      console.log('Claude Code test skipped: set LOUPE_AGENTS_BIN to a folder with the claude binary');
      return ctx.skip();
    }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-claude-home-'));
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
    run('claude', `HOME=${home} exec ${path.join(AGENTS_BIN, 'claude')}`);
    const waiting = JSON.parse(waitFor('claude', 'waiting', 60).stdout) as Attention;
    expect(waiting.reason).toBe('prompt on screen (rule claude-code-trust)');
    expect(waiting.prompt).toMatch(/Quick safety check[\s\S]*❯ 1\. Yes, I trust this folder\n {2}2\. No, exit/);
    spawnSync('tmux', ['-L', SOCKET, 'send-keys', '-t', 'loupe-claude', 'Enter']);
    const deadline = Date.now() + 15_000;
    let state = attentionOf('claude').state;
    while (state === 'waiting' && Date.now() < deadline) state = attentionOf('claude').state;
    expect(state).not.toBe('waiting');
  });

  it("Codex's first-run sign-in menu is waiting", (ctx) => {
    if (!hasAgent('codex')) {
      console.log('Codex test skipped: set LOUPE_AGENTS_BIN to a folder with the codex binary');
      return ctx.skip();
    }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-codex-home-'));
    fs.mkdirSync(path.join(home, '.codex'));
    run('codex', `cd ${root} && HOME=${home} CODEX_HOME=${home}/.codex exec ${path.join(AGENTS_BIN, 'codex')}`);
    const waiting = JSON.parse(waitFor('codex', 'waiting', 60).stdout) as Attention;
    expect(waiting.reason).toBe('prompt on screen (rule codex-sign-in)');
    expect(waiting.prompt).toMatch(/1\. Sign in with ChatGPT/);
  });
});
