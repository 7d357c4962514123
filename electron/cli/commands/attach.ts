/**
 * `loupe attach TARGET [--root DIR] [--task ID] [--name NAME] [--socket NAME] [--method pipe|poll]`
 *
 * Captures an existing tmux pane from now on. Attaching a captured pane again changes nothing.
 * Prints the agent id and the log path.
 */
import { Command, Option } from 'commander';
import { parseSocket, SOCKET_FLAGS, SOCKET_HELP } from './socket-option.js';

interface AttachCommandOptions {
  root: string;
  task?: string;
  name?: string;
  socket?: string;
  method: 'pipe' | 'poll';
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('start capturing an existing tmux pane')
    .argument('<target>', 'a tmux target: a pane id like %3, or session:window.pane')
    .option('--root <dir>', 'the folder that holds .agent-workspace/', '.')
    .option('--task <id>', 'add the agent to this task (default: a new task)')
    .option('--name <name>', "agent id (default: the pane's current command, made unique in the task)")
    .option(SOCKET_FLAGS, SOCKET_HELP, parseSocket)
    .addOption(new Option('--method <method>', 'capture method').choices(['pipe', 'poll']).default('pipe'))
    .action(async (target: string, options: AttachCommandOptions) => {
      const { attachPane } = await import('../../core/capture/session.js');
      const started = await attachPane({
        target,
        root: options.root,
        taskId: options.task,
        name: options.name,
        socket: options.socket,
        method: options.method,
      });
      if (started.alreadyCaptured) process.stderr.write(`loupe: pane ${started.paneId} is already captured; nothing changed\n`);
      process.stdout.write(`${started.agentId}\n${started.logFile}\n`);
    });
}
