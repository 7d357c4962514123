/**
 * `loupe run [--root DIR] [--task ID] [--name NAME] [--socket NAME] [--cols C] [--rows R] [--method pipe|poll] -- CMD…`
 *
 * Starts CMD in a new detached tmux session under capture (the command waits until its capture is
 * attached) and prints two lines: the agent id and the log path.
 */
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { parseSocket, SOCKET_FLAGS, SOCKET_HELP } from './socket-option.js';

interface RunCommandOptions {
  root: string;
  task?: string;
  name?: string;
  socket?: string;
  cols?: number;
  rows?: number;
  method: 'pipe' | 'poll';
}

function parseSize(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw new UserError(`invalid ${what} ${JSON.stringify(value)}: use a whole number from 1 to 10000`);
    return n;
  };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command in a new detached tmux session, capturing everything it prints')
    .argument('[command...]', 'the command and its arguments (put them after --)')
    .option('--root <dir>', 'the folder that holds .agent-workspace/', '.')
    .option('--task <id>', 'add the agent to this task (default: a new task)')
    .option('--name <name>', "agent id (default: the command's name, made unique in the task)")
    .option(SOCKET_FLAGS, SOCKET_HELP, parseSocket)
    .option('--cols <n>', 'terminal width', parseSize('--cols'))
    .option('--rows <n>', 'terminal height', parseSize('--rows'))
    .addOption(new Option('--method <method>', 'capture method (pipe falls back to poll when pipe-pane fails)').choices(['pipe', 'poll']).default('pipe'))
    .action(async (command: string[], options: RunCommandOptions) => {
      if (command.length === 0) throw new UserError('no command given: put it after `--`, e.g. `loupe run -- claude` or `loupe run --name build -- make test`');
      const { runAgent } = await import('../../core/capture/session.js');
      const started = await runAgent({
        root: options.root,
        taskId: options.task,
        name: options.name,
        socket: options.socket,
        cols: options.cols,
        rows: options.rows,
        method: options.method,
        command,
      });
      process.stdout.write(`${started.agentId}\n${started.logFile}\n`);
    });
}
