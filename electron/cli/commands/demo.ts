/**
 * `loupe demo [--root DIR] [--socket NAME]`: starts four realistic fake agents under capture and
 * says what to try next.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { checkSocketName } from '../../../shared/entry.js';

interface DemoCliOptions {
  root?: string;
  socket?: string;
  fast?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start four realistic fake agents under capture, so there is something to look at')
    .option('--root <dir>', 'folder to keep their logs in (default: the current folder)')
    .option('--socket <name>', 'tmux -L socket to run them on (default: the default tmux server)')
    .option('--fast', 'run the agents without pauses (they finish in a second or two)')
    .action(async (options: DemoCliOptions) => {
      if (options.socket !== undefined) checkSocketName(options.socket);
      const { startDemo } = await import('../../core/capture/demo.js');
      const root = path.resolve(options.root ?? process.cwd());
      const demo = await startDemo({ root, socket: options.socket, fast: options.fast });
      process.stdout.write(describeDemo(demo, root, options.socket));
    });
}

function describeDemo(
  demo: { taskId: string; agents: { agentId: string; session: string; shows: string }[] },
  root: string,
  socket: string | undefined,
): string {
  const rootFlag = root === process.cwd() ? '' : ` --root ${quote(root)}`;
  const socketFlag = socket === undefined ? '' : ` --socket ${socket}`;
  const width = Math.max(...demo.agents.map((a) => a.agentId.length));
  const first = demo.agents[0];
  const tmux = socket === undefined ? 'tmux' : `tmux -L ${socket}`;
  const next: [string, string][] = [
    [`loupe ls${rootFlag}${socketFlag}`, 'agents, their state and entry counts'],
    [`loupe tail -f ${first.agentId}${rootFlag}`, 'follow one agent live'],
    [`loupe search Traceback${rootFlag}`, 'find the crash across every agent'],
    [`loupe serve${rootFlag}${socketFlag}`, 'open the app in a browser'],
    [`${tmux} attach -t ${first.session}`, 'watch it in tmux itself'],
  ];
  const commandWidth = Math.max(...next.map(([command]) => command.length));
  return [
    `Started ${demo.agents.length} demo agents in task ${demo.taskId}`,
    `(logs in ${path.join(root, '.agent-workspace', demo.taskId, 'logs')}):`,
    ...demo.agents.map((a) => `  ${a.agentId.padEnd(width)}  ${a.shows}`),
    '',
    'Try next:',
    ...next.map(([command, why]) => `  ${command.padEnd(commandWidth)}  # ${why}`),
    '',
  ].join('\n');
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
