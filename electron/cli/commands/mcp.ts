/**
 * `loupe mcp [--root DIR]… [--socket NAME]…`: the agents' logs as a read-only MCP server on
 * stdio (SPEC §15), for orchestrators and agents. Runs until the client closes stdin.
 */
import type { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { collectSocket } from './socket-option.js';
import { collect } from '../repeatable.js';

interface McpOptions {
  root?: string[];
  socket?: string[];
}

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve the logs to MCP clients (Claude Code, orchestrators) on stdin/stdout, read-only')
    .option('--root <dir>', 'a folder holding .agent-workspace/ (repeatable; default: the current folder)', collect)
    .option('--socket <name>', 'tmux -L socket the agents run on, for their live state (repeatable; default: the default server)', collectSocket)
    .action(async (options: McpOptions) => {
      const roots = options.root ?? ['.'];
      // A root it cannot use is refused before the client is told the server is up.
      roots.forEach(checkRootFolder);
      const { serveMcp } = await import('../../mcp/server.js');
      await serveMcp({
        roots,
        sockets: options.socket ?? [],
        version: program.version() ?? '0.0.0',
        log: (message) => process.stderr.write(`loupe mcp: ${message}\n`),
      });
    });
}
