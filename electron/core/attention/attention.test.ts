import { describe, expect, it } from 'vitest';
import { attentionOf, compilePromptRules, findPrompt, NO_FACTS, questionAt, type AttentionFacts } from './attention.js';
import { notificationsIn } from './notifications.js';
import { DEFAULT_PROMPT_RULES } from './rules.js';
import { killTmuxServer } from '../capture/test-support.js';

const S = 1_000_000; // µs
const T0 = Date.UTC(2026, 11, 1, 12) * 1000;
const rules = compilePromptRules(DEFAULT_PROMPT_RULES);

function screen(rows: string[], cursorRow = rows.length - 1) {
  return { rows, cursorRow };
}

describe('attentionOf', () => {
  const facts = (f: Partial<AttentionFacts>): AttentionFacts => ({ ...NO_FACTS, ...f });

  it('is working while output arrives, idle once it has been quiet, ended once the run ended', () => {
    const f = facts({ lastOutput: T0, activeSince: T0 - 10 * S });
    expect(attentionOf(f, T0 + S)).toMatchObject({ state: 'working', reason: 'output is arriving', prompt: null });
    expect(attentionOf(f, T0 + S).since).toBe('2026-12-01T11:59:50.000000+00:00');
    expect(attentionOf(f, T0 + 6 * S)).toMatchObject({ state: 'idle', since: '2026-12-01T12:00:05.000000+00:00' });
    expect(attentionOf({ ...f, ended: T0 + 2 * S }, T0 + 3 * S)).toMatchObject({ state: 'ended', reason: 'the run ended' });
  });

  it('is waiting with the question once a prompt has stood without output after it', () => {
    const f = facts({ lastOutput: T0, activeSince: T0, prompt: { rule: 'yes-no', text: 'Do you want to proceed? [y/N]', since: T0 } });
    expect(attentionOf(f, T0 + 0.5 * S).state).toBe('working'); // output may still be coming
    expect(attentionOf(f, T0 + 1.5 * S)).toEqual({
      state: 'waiting',
      since: '2026-12-01T12:00:00.000000+00:00',
      reason: 'prompt on screen (rule yes-no)',
      prompt: 'Do you want to proceed? [y/N]',
    });
  });

  it('is waiting after a notification escape that no output followed', () => {
    const f = facts({ lastOutput: T0, notification: { kind: 'osc9', text: 'Claude needs your permission', at: T0 } });
    expect(attentionOf(f, T0 + 2 * S)).toMatchObject({ state: 'waiting', reason: 'a notification (OSC9) after the last output', prompt: 'Claude needs your permission' });
  });
});

describe('prompt rules on real screens', () => {
  it("finds a shell's [y/N] on the cursor's row, with the lines of the question above it", () => {
    // The cursor sits right after the question.
    expect(findPrompt(screen(['$ ./deploy.sh', 'Plan: delete 3 files', 'Do you want to proceed? [y/N]'], 2), rules)).toEqual({
      rule: 'yes-no',
      text: '$ ./deploy.sh\nPlan: delete 3 files\nDo you want to proceed? [y/N]',
    });
    // The cursor two rows below it, on empty rows: the question was answered (or printed), not asked.
    expect(findPrompt(screen(['$ ./upgrade.sh', 'Upgrade the database? [y/N] y', 'upgrading', '', ''], 4), rules)).toBeNull();
  });

  it('ignores (y/n) and "? " in output that is not at the cursor', () => {
    const rows = ['building...', 'prompt (y/n) was answered by the script', '? 3 files changed', 'step 7 of 9', 'step 8 of 9'];
    expect(findPrompt(screen(rows), rules)).toBeNull();
  });

  it("reads Claude Code's folder-trust dialog, cursor hidden elsewhere", () => {
    const rows = [
      '────────────────────────────────────────────',
      ' Accessing workspace:',
      '',
      ' /home/user/project',
      '',
      ' Quick safety check: Is this a project you created or one you trust? (Like your own code, a',
      ' well-known open source project, or work from your team). If not, take a moment to review',
      " what's in this folder first.",
      '',
      ' ❯ 1. Yes, I trust this folder',
      '   2. No, exit',
      '',
      ' Enter to confirm · Esc to cancel',
    ];
    const found = findPrompt(screen(rows, 0), rules);
    expect(found?.rule).toBe('claude-code-trust');
    // The whole dialog under its rule, as Claude Code 2.1.197 draws it (seen with `loupe screen`).
    expect(found?.text).toBe(
      [
        'Accessing workspace:',
        '/home/user/project',
        'Quick safety check: Is this a project you created or one you trust? (Like your own code, a',
        'well-known open source project, or work from your team). If not, take a moment to review',
        "what's in this folder first.",
        '❯ 1. Yes, I trust this folder',
        '  2. No, exit',
      ].join('\n'),
    );
  });

  it("takes a boxed dialog's lines without its borders", () => {
    const rows = [
      'some output',
      '╭──────────────────────────────────────╮',
      '│ Bash command                         │',
      '│   rm -rf build/                      │',
      '│ Do you want to proceed?              │',
      '│ ❯ 1. Yes                             │',
      '│   2. No, and tell Claude what to do  │',
      '╰──────────────────────────────────────╯',
      '',
    ];
    expect(findPrompt(screen(rows, 8), rules)).toEqual({
      rule: 'claude-code-permission',
      text: 'Bash command\n  rm -rf build/\nDo you want to proceed?\n❯ 1. Yes\n  2. No, and tell Claude what to do',
    });
  });

  it("reads Codex's first-run sign-in menu, its cursor left at the bottom of an otherwise empty screen", () => {
    // As Codex CLI 0.x draws it (seen with `loupe screen`); the cursor is on row 31 of 32.
    const rows = [
      "  Welcome to Codex, OpenAI's command-line coding agent",
      ' ',
      '  Choose how you want to use Codex.',
      ' ',
      '> 1. Sign in with ChatGPT',
      '     Usage included with Plus, Pro, Business, and Enterprise plans',
      ' ',
      '  2. Sign in with Device Code',
      '     Sign in from another device with a one-time code',
      ' ',
      '  3. Sign in another way',
      '     Use an API key or another provider',
      ' ',
      '  Press enter to continue',
      ...Array.from({ length: 18 }, () => ' '),
    ];
    const found = findPrompt(screen(rows, 31), rules);
    expect(found?.rule).toBe('codex-sign-in');
    expect(found?.text).toBe(
      [
        '  Choose how you want to use Codex.',
        '> 1. Sign in with ChatGPT',
        '     Usage included with Plus, Pro, Business, and Enterprise plans',
        '  2. Sign in with Device Code',
        '     Sign in from another device with a one-time code',
        '  3. Sign in another way',
        '     Use an API key or another provider',
        '  Press enter to continue',
      ].join('\n'),
    );
  });

  it('finds numbered menus, Aider questions, passwords and ssh host keys', () => {
    expect(findPrompt(screen(['Pick one:', '› 1. Sign in with ChatGPT', '  2. Provide your own API key', '', '  Press Enter to continue'], 0), rules)?.rule).toBe('codex-sign-in');
    expect(findPrompt(screen(['Pick a color', '❯ 1. red', '  2. blue'], 0), rules)?.rule).toBe('menu');
    expect(findPrompt(screen(["Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: "]), rules)?.rule).toBe('aider-confirm');
    expect(findPrompt(screen(['[sudo] password for bob: ']), rules)?.rule).toBe('password');
    expect(findPrompt(screen(['Are you sure you want to continue connecting (yes/no/[fingerprint])? ']), rules)?.rule).toBe('ssh-host-key');
  });

  it('questionAt keeps a menu together with the question above it', () => {
    expect(questionAt(['Which database?', '❯ 1. Postgres', '  2. SQLite', '', 'done'], 1)).toBe('Which database?\n❯ 1. Postgres\n  2. SQLite');
  });
});

describe('notification escapes', () => {
  it('tells a bare BEL from the BEL that ends an OSC string', () => {
    expect(notificationsIn('\x1b]0;my title\x07')).toEqual([]);
    expect(notificationsIn('done\x07')).toEqual([{ kind: 'bell', text: '' }]);
  });

  it('reads OSC 9, 777 and 99, and skips ConEmu progress (OSC 9;4)', () => {
    expect(notificationsIn('\x1b]9;Claude needs your permission\x07')).toEqual([{ kind: 'osc9', text: 'Claude needs your permission' }]);
    expect(notificationsIn('\x1b]9;4;3;\x07\x1b]9;4;0;\x07')).toEqual([]);
    expect(notificationsIn('\x1b]777;notify;Gemini CLI;Action required\x07')).toEqual([{ kind: 'osc777', text: 'Gemini CLI: Action required' }]);
    expect(notificationsIn('\x1b]99;i=1:d=0:p=title;Claude Code\x1b\\')).toEqual([{ kind: 'osc99', text: 'Claude Code' }]);
  });

  it('takes the BEL that ends an OSC string begun in an earlier chunk for its terminator, not the bell', () => {
    const state = { inOsc: false };
    expect(notificationsIn('\x1b]1337;' + 'A'.repeat(1000), state)).toEqual([]);
    expect(notificationsIn('A'.repeat(1000), state)).toEqual([]);
    expect(notificationsIn('AAAA\x07after-hostile\r\n', state)).toEqual([]);
    expect(notificationsIn('then a real bell\x07', state)).toEqual([{ kind: 'bell', text: '' }]);
  });

  it("unwraps tmux's passthrough", () => {
    expect(notificationsIn('\x1bPtmux;\x1b\x1b]9;needs you\x07\x1b\\')).toEqual([{ kind: 'osc9', text: 'needs you' }]);
  });
});

describe('the foreground process (Linux /proc)', () => {
  it('sees a program blocked reading its terminal, and not one that sleeps', async () => {
    const { spawnSync } = await import('node:child_process');
    const { readsTerminal } = await import('./foreground.js');
    const socket = `loupe-test-fg-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    try {
      tmux('new-session', '-d', '-s', 'reader', '-x', '80', '-y', '24', "sh -c 'printf \"Name: \"; read name; sleep 60'");
      tmux('new-session', '-d', '-s', 'sleeper', '-x', '80', '-y', '24', "sh -c 'sleep 60'");
      const pid = (s: string) => Number(tmux('display', '-p', '-t', s, '#{pane_pid}').stdout.trim());
      let reading = false;
      for (let i = 0; i < 50 && !reading; i++) {
        reading = readsTerminal(pid('reader'));
        if (!reading) await new Promise((r) => setTimeout(r, 50));
      }
      expect(reading).toBe(true);
      expect(readsTerminal(pid('sleeper'))).toBe(false);
      tmux('send-keys', '-t', 'reader', 'bob', 'Enter');
      await new Promise((r) => setTimeout(r, 300));
      expect(readsTerminal(pid('reader'))).toBe(false);
    } finally {
      killTmuxServer(socket);
    }
  });
});
