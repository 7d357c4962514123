/**
 * `loupe screen AGENT_ID [--at ISO | --seq N] [--format text|ansi] [--root DIR | --store URL [--machine NAME]] [--task ID]`:
 * prints the agent's screen as its terminal showed it at that moment (default: the end of the
 * run), rendered headlessly at the recorded cols × rows. From a store it reads the agent's
 * local copy (electron/core/store/agentCache.ts), so the screen is the one the shipping machine shows.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { STORE_HELP, STORE_MACHINE_HELP, checkStoreOptions, locateAgentRun } from './store-option.js';

interface ScreenOptions {
  at?: string;
  seq?: string;
  format: string;
  root: string;
  task?: string;
  store?: string;
  machine?: string;
  keyframes: boolean;
}

const FORMATS = ['text', 'ansi'] as const;

export function registerScreen(program: Command): void {
  program
    .command('screen')
    .description("print an agent's screen as it was at a moment of its run (default: the end)")
    .argument('<agent-id>', 'the agent whose screen to print')
    .option('--at <iso>', 'the moment, as an ISO 8601 time (e.g. 2026-11-21T23:54:09Z)')
    .option('--seq <n>', 'the moment just after entry N')
    .option('--format <format>', `text or ansi (colors as SGR escapes)`, 'text')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--task <id>', 'the task holding the agent (default: the newest one that does)')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', STORE_MACHINE_HELP)
    .option('--no-keyframes', 'replay from the start instead of from the nearest keyframe')
    .action(async (agentId: string, options: ScreenOptions, command: Command) => {
      if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new UserError(`--format ${JSON.stringify(options.format)} is not a screen format; use text or ansi`);
      }
      if (options.at !== undefined && options.seq !== undefined) {
        throw new UserError('--at and --seq both name a moment; pass only one');
      }
      checkStoreOptions(command, options);
      // Loaded here, not at the top: xterm is heavy and `loupe --help` must stay fast.
      const { parseSeqPoint, parseTimePoint } = await import('../../core/replay/locate.js');
      const { seekReplay } = await import('../../core/replay/seek.js');
      const { screenAnsi, screenText } = await import('../../../shared/terminal-state.js');
      const point =
        options.at !== undefined
          ? parseTimePoint('--at', options.at)
          : options.seq !== undefined
            ? parseSeqPoint('--seq', options.seq)
            : { end: true as const };
      const log = await locateAgentRun(agentId, options);
      const screen = await seekReplay(log, point, { keyframes: options.keyframes });
      try {
        const term = screen.replayer.terminal.term;
        const rows = options.format === 'ansi' ? screenAnsi(term) : screenText(term);
        process.stdout.write(rows.join('\n') + '\n');
      } finally {
        screen.dispose();
      }
    });
}
