/**
 * `loupe wait AGENT_ID [--for waiting|idle|ended|any] [--timeout S] [--root DIR] [--task ID]
 * [--socket NAME]… [--json]`: blocks until the agent's attention (SPEC §13) reaches that state,
 * prints it and exits 0; exits 1 when the timeout passes first. For scripts and orchestrators.
 */
import type { Command } from 'commander';
import type { Attention } from '../../../shared/ipc.js';
import { WAIT_TARGETS, waitForAttention, type WaitTarget } from '../../core/attention/wait.js';
import { UserError } from '../errors.js';
import { listWithAttention } from './ls.js';
import { collectSocket } from './socket-option.js';

interface WaitOptions {
  for: string;
  timeout?: string;
  root: string;
  task?: string;
  socket?: string[];
  json?: boolean;
}

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description('wait until an agent is waiting for you, idle or ended; print its state (and question)')
    .argument('<agent-id>', 'the agent to wait for')
    .option('--for <state>', 'waiting, idle, ended, or any (any of them: no longer working)', 'any')
    .option('--timeout <seconds>', 'give up after this many seconds (exit status 1)')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--task <id>', 'the task holding the agent (default: the newest one that does)')
    .option('--socket <name>', 'tmux -L socket the agent runs on (repeatable; default: every socket Loupe captures on)', collectSocket)
    .option('--json', 'print the attention as JSON: {"state", "since", "reason", "prompt"}')
    .action(async (agentId: string, options: WaitOptions) => {
      if (!(WAIT_TARGETS as readonly string[]).includes(options.for)) {
        throw new UserError(`--for ${JSON.stringify(options.for)} is not a state to wait for; use waiting, idle, ended or any`);
      }
      const timeoutMs = options.timeout === undefined ? Number.POSITIVE_INFINITY : parseTimeout(options.timeout);
      const sockets = options.socket ?? [];
      const { locateRun } = await import('../../core/replay/locate.js');
      const log = locateRun(options.root, agentId, options.task);
      const { attention, reached } = await waitForAttention(() => attentionOf(log, sockets), options.for as WaitTarget, timeoutMs);
      if (reached) {
        process.stdout.write(options.json ? JSON.stringify(attention) + '\n' : describe(agentId, attention));
        return;
      }
      process.stderr.write(`loupe: ${agentId} is still ${attention.state} after ${options.timeout} s (waited for ${options.for})\n`);
      process.exitCode = 1;
    });
}

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(seconds)) {
    throw new UserError(`--timeout ${JSON.stringify(value)} is not a number of seconds; use e.g. --timeout 30`);
  }
  return seconds * 1000;
}

async function attentionOf(log: { root: string; taskId: string; agentId: string }, sockets: string[]): Promise<Attention> {
  const workspace = await listWithAttention({ roots: [log.root], sockets, includePaneRoots: false });
  const agent = workspace.roots[0]?.tasks.find((t) => t.taskId === log.taskId)?.agents.find((a) => a.agentId === log.agentId);
  if (agent === undefined) throw new UserError(`${log.agentId} disappeared from ${log.root} while waiting (its task folder was removed)`, 1);
  return agent.attention;
}

function describe(agentId: string, a: Attention): string {
  const head = `${agentId}: ${a.state} since ${a.since} (${a.reason})\n`;
  return a.prompt === null ? head : head + a.prompt.split('\n').map((l) => `  │ ${l}\n`).join('');
}
