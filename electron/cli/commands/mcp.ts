/**
 * `loupe mcp [--root DIR]… [--socket NAME]…`: the agents' logs as a read-only MCP server on
 * stdio (SPEC §15), for orchestrators and agents. Runs until the client closes stdin.
 * `loupe mcp --store URL [--machine NAME]`: the same over every machine that ships to a
 * PostgreSQL store (SPEC §16).
 */
import type { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { collectSocket } from './socket-option.js';
import { collect } from '../repeatable.js';
import { checkMachineOption, checkStoreAlone, openStoreBackend } from './store-option.js';

interface McpOptions {
  root?: string[];
  socket?: string[];
  store?: string;
  machine?: string;
}

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve the logs to MCP clients (Claude Code, orchestrators) on stdin/stdout, read-only')
    .option('--root <dir>', 'a folder holding .agent-workspace/ (repeatable; default: the current folder)', collect)
    .option('--socket <name>', 'tmux -L socket the agents run on, for their live state (repeatable; default: the default server)', collectSocket)
    .option('--store <url>', 'serve every machine that ships to this PostgreSQL store (postgres://user:password@host:5432/db) instead of local roots')
    .option('--machine <name>', 'with --store: only this machine')
    .action(async (options: McpOptions) => {
      checkMachineOption(options);
      checkStoreAlone({ ...options }, { root: '--root', socket: '--socket' });
      const roots = options.root ?? ['.'];
      const version = program.version() ?? '0.0.0';
      const log = (message: string) => process.stderr.write(`loupe mcp: ${message}\n`);
      // A root or store it cannot use is refused before the client is told the server is up.
      if (options.store === undefined) roots.forEach(checkRootFolder);
      const store = options.store === undefined ? undefined : await openStoreBackend({ url: options.store, machine: options.machine, version, log });
      const { serveMcp } = await import('../../mcp/server.js');
      await serveMcp({ roots: store === undefined ? roots : [], sockets: options.socket ?? [], store, version, log });
    });
}
