/**
 * `loupe detach TARGET [--socket NAME]`: stops capturing a pane; the pane keeps running.
 */
import { Command } from 'commander';
import { parseSocket, SOCKET_FLAGS, SOCKET_HELP } from './socket-option.js';

export function registerDetach(program: Command): void {
  program
    .command('detach')
    .description('stop capturing a tmux pane (the pane keeps running)')
    .argument('<target>', 'a tmux target: a pane id like %3, or session:window.pane')
    .option(SOCKET_FLAGS, SOCKET_HELP, parseSocket)
    .action(async (target: string, options: { socket?: string }) => {
      const { detachPane } = await import('../../core/capture/session.js');
      const { paneId, agentId } = await detachPane({ target, socket: options.socket });
      process.stdout.write(agentId === null ? `${paneId} was not captured\n` : `${paneId} detached (${agentId})\n`);
    });
}
