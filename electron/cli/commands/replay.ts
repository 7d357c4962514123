/**
 * `loupe replay AGENT_ID [--speed X] [--idle-limit S] [--from ISO|SEQ] [--to ISO|SEQ] [--root DIR | --store URL [--machine NAME]]`:
 * plays a run into the user's own terminal with its original timing, like `asciinema play`.
 * From a store it plays the agent's local copy (electron/core/store/agentCache.ts).
 * Keys (when stdin is a terminal): space pauses, `.` steps while paused, `<` `>` halve and double
 * the speed, `q` or Ctrl-C quits. `--speed 0` writes everything at once.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { STORE_HELP, STORE_MACHINE_HELP, checkStoreOptions, locateAgentRun } from './store-option.js';

interface ReplayOptions {
  speed: string;
  idleLimit?: string;
  from?: string;
  to?: string;
  root: string;
  task?: string;
  store?: string;
  machine?: string;
}

/** Slowest and fastest speeds the `<` `>` keys reach (the app's scrubber offers the same range). */
const MIN_SPEED = 0.25;
const MAX_SPEED = 32;
/** Resets what a run may have left on in the user's terminal: pen, mouse, paste, keypad, cursor, region. */
const TERMINAL_RESET = '\x1b[0m\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1004l\x1b[?2004l\x1b[?1l\x1b>\x1b[?25h\x1b[r';
/** Enter and leave the alternate screen (1049, 1047, 47), to know whether a quit must leave it. */
// eslint-disable-next-line no-control-regex
const ALT_SCREEN_SWITCH = /\x1b\[\?(?:1049|1047|47)([hl])/g;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description("play an agent's run in this terminal with its original timing (space pauses, . steps, < > change speed, q quits)")
    .argument('<agent-id>', 'the agent whose run to play')
    .option('--speed <x>', 'playback speed; 0 writes everything at once', '1')
    .option('--idle-limit <s>', 'cap every pause in the recording at this many seconds')
    .option('--from <iso|seq>', 'start at this time or entry sequence (the screen is restored first)')
    .option('--to <iso|seq>', 'stop after this time or entry sequence')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--task <id>', 'the task holding the agent (default: the newest one that does)')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', STORE_MACHINE_HELP)
    .action(async (agentId: string, options: ReplayOptions, command: Command) => {
      const speed = Number(options.speed);
      if (!Number.isFinite(speed) || speed < 0) {
        throw new UserError(`--speed ${JSON.stringify(options.speed)} is not a speed; use a number >= 0 (1 is real time, 0 writes everything at once)`);
      }
      const idleLimit = options.idleLimit === undefined ? Infinity : Number(options.idleLimit);
      if (Number.isNaN(idleLimit) || idleLimit <= 0) {
        throw new UserError(`--idle-limit ${JSON.stringify(options.idleLimit)} is not a number of seconds; use a number > 0`);
      }
      checkStoreOptions(command, options);
      // Loaded here, not at the top: xterm is heavy and `loupe --help` must stay fast.
      const { parseTimeOrSeqPoint } = await import('../../core/replay/locate.js');
      const { seekReplay } = await import('../../core/replay/seek.js');
      const { runFrames, stripUnsafeSequences } = await import('../../core/replay/frames.js');
      const { serializeTerminalState } = await import('../../../shared/terminal-state.js');
      const { runStart } = await import('../../core/replay/run-log.js');
      const from = options.from !== undefined ? parseTimeOrSeqPoint('--from', options.from) : undefined;
      const to = options.to !== undefined ? parseTimeOrSeqPoint('--to', options.to) : undefined;
      const log = await locateAgentRun(agentId, options);

      const out = process.stdout;
      let start = runStart(log);
      let initial = '';
      let lastTime = Number.NaN;
      let startSize: { cols: number; rows: number } | null = null;
      if (from !== undefined) {
        // The screen just before the first frame played, restored from the nearest keyframe.
        const before = 'seq' in from ? { seq: from.seq - 1 } : 'time' in from ? { time: from.time - 1 } : from;
        const screen = await seekReplay(log, before);
        try {
          const r = screen.replayer;
          initial = '\x1b[H\x1b[2J' + serializeTerminalState(r.terminal.term, r.terminal.serializer, 0);
          start = r.next;
          lastTime = r.time;
          startSize = { cols: r.cols, rows: r.rows };
        } finally {
          screen.dispose();
        }
      }

      const player = new Player(out, speed, idleLimit, lastTime);
      if (startSize !== null) player.warnIfSmaller(startSize);
      player.write(initial);
      try {
        player.attachKeys();
        for await (const frame of runFrames(log, start, to)) {
          if (frame.size !== undefined) {
            player.warnIfSmaller(frame.size);
            continue;
          }
          if (!(await player.waitFor(frame.time))) break;
          player.write(stripUnsafeSequences(frame.text));
        }
      } finally {
        player.finish();
      }
    });
}

/** Writes frames on time, and owns the keyboard and the terminal's raw mode while playing. */
class Player {
  private paused = false;
  private stepping = false;
  private quit = false;
  private wake: (() => void) | null = null;
  private altScreen = false;
  private warned = false;
  private readonly batch: string[] = [];
  private readonly onKey = (data: Buffer) => this.key(data.toString('latin1'));
  private readonly onSigint = () => {
    this.quit = true;
    this.wake?.();
  };

  constructor(
    private readonly out: NodeJS.WriteStream,
    private speed: number,
    private readonly idleLimitSeconds: number,
    private lastTime: number,
  ) {}

  /** Raw keys when stdin is a terminal and playback is timed; SIGINT always restores the terminal. */
  attachKeys(): void {
    process.on('SIGINT', this.onSigint);
    if (this.speed === 0 || !process.stdin.isTTY) return;
    process.stdin.setRawMode(true);
    process.stdin.on('data', this.onKey);
    process.stdin.resume();
  }

  write(text: string): void {
    if (text === '') return;
    for (const m of text.matchAll(ALT_SCREEN_SWITCH)) this.altScreen = m[1] === 'h';
    // At speed 0 everything goes out in large writes at the end of the run.
    if (this.speed === 0) this.batch.push(text);
    else this.out.write(text);
  }

  warnIfSmaller(size: { cols: number; rows: number }): void {
    const { columns, rows } = this.out;
    if (this.warned || !this.out.isTTY || columns === undefined) return;
    if (columns < size.cols || rows < size.rows) {
      this.warned = true;
      process.stderr.write(`loupe: the run was recorded at ${size.cols}x${size.rows}; this terminal is ${columns}x${rows}, so lines may wrap\n`);
    }
  }

  /** Waits until a frame recorded at `time` is due. Returns false when the user quit. */
  async waitFor(time: number): Promise<boolean> {
    if (this.quit) return false;
    if (this.speed === 0) return true;
    let delayMs = Number.isNaN(this.lastTime) ? 0 : Math.max(0, time - this.lastTime) / 1000;
    delayMs = Math.min(delayMs, this.idleLimitSeconds * 1000);
    this.lastTime = time;
    let remaining = delayMs / this.speed;
    while (!this.quit) {
      if (this.stepping) {
        this.stepping = false;
        return true;
      }
      if (!this.paused && remaining <= 0) return true;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (!this.paused) setTimeout(resolve, remaining);
      });
      this.wake = null;
      if (!this.paused) remaining -= performance.now() - started;
    }
    return false;
  }

  /** Flushes, leaves what the run left on, and gives the terminal back as it was. */
  finish(): void {
    if (this.batch.length > 0) this.out.write(this.batch.join(''));
    this.batch.length = 0;
    if (this.out.isTTY) this.out.write((this.altScreen ? '\x1b[?1049l' : '') + TERMINAL_RESET);
    process.off('SIGINT', this.onSigint);
    if (process.stdin.isTTY && this.speed !== 0) {
      process.stdin.off('data', this.onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }

  private key(k: string): void {
    if (k === ' ') this.paused = !this.paused;
    else if (k === '.') this.stepping = true;
    else if (k === '<') this.speed = Math.max(MIN_SPEED, this.speed / 2);
    else if (k === '>') this.speed = Math.min(MAX_SPEED, this.speed * 2);
    else if (k === 'q' || k === '\x03') this.quit = true;
    else return;
    this.wake?.();
  }
}
