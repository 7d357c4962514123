/**
 * `loupe mcp`: a read-only Model Context Protocol server on stdio (SPEC §15), a transport like
 * `loupe serve`'s WebSocket: one backend (electron/core/api), one read-only client of it, and
 * the tools (tools.ts) calling the contract's channels. stdout carries only protocol messages.
 */
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { InvokeArgs, InvokeChannel, InvokeResult } from '../../shared/ipc.js';
import { startBackend, type Backend } from '../core/api/backend.js';
import { listingLocator, registerTools, rootsLocator, type ToolContext } from './tools.js';

export interface McpServeOptions {
  roots: string[];
  /** tmux `-L` socket names the agents run on (the default server when empty). */
  sockets: string[];
  /**
   * A store backend (core/store/storeBackend.ts, already connected) to serve instead of the
   * roots, and where it is (for messages); this server disposes of it.
   */
  store?: { backend: Backend; address: string };
  version: string;
  /** Diagnostics (stderr: stdout is the protocol's). */
  log: (message: string) => void;
}

/** What a client reads first (`instructions` of the initialize result): how the tools fit together. */
const INSTRUCTIONS =
  'Loupe records the terminal output of AI coding agents running in tmux. Start with list_agents; ' +
  'read an agent with get_agent_output, follow it with stream_agent_output (pass next_since_sequence back), ' +
  'search every agent with search_logs, summarise a run with get_run_summary, and block until an agent ' +
  'asks something, goes idle or ends with wait_for_agent. Everything is read-only. Over a store of ' +
  'several machines (loupe mcp --store), each root names its machine; pass machine when several machines have an agent.';

/**
 * Serves MCP on stdin/stdout until stdin ends (the client went away), stdout closes, or
 * SIGINT/SIGTERM; then closes everything it opened.
 */
export async function serveMcp(options: McpServeOptions): Promise<void> {
  const backend = options.store?.backend ?? startBackend({ roots: options.roots, sockets: options.sockets, version: options.version, log: options.log });
  const liveListeners = new Map<string, () => void>();
  const client = backend.connect({
    transport: 'mcp',
    allowedControl: [],
    send: (channel, payload) => {
      if (channel !== 'live:entries') return;
      for (const batch of (payload as { batches: { subscriptionId: string }[] }).batches) liveListeners.get(batch.subscriptionId)?.();
    },
  });
  const call = <C extends InvokeChannel>(channel: C, args: InvokeArgs<C>) => client.call(channel, args) as Promise<InvokeResult<C>>;
  const roots = options.roots.map((r) => path.resolve(r));
  const where = options.store === undefined ? roots.join(', ') : `the store at ${options.store.address}`;
  const ctx: ToolContext = {
    where,
    locate: options.store === undefined ? rootsLocator(roots) : listingLocator(where, () => call('workspace:list', {})),
    call,
    onLive(subscriptionId, listener) {
      liveListeners.set(subscriptionId, listener);
      return () => liveListeners.delete(subscriptionId);
    },
  };

  const server = new McpServer({ name: 'loupe', version: options.version }, { instructions: INSTRUCTIONS });
  registerTools(server, ctx);
  server.server.onerror = (err) => options.log(`protocol error: ${err.message}`);
  const transport = new StdioServerTransport();
  try {
    await server.connect(transport);
    await untilClosed();
  } finally {
    // Closing aborts the calls still running (a wait, say) before the backend they use goes.
    await server.close();
    client.close();
    await backend.dispose();
  }
}

/** Resolves when the client closes our stdin or stdout, or on SIGINT/SIGTERM. */
function untilClosed(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.stdin.off('end', done);
      process.stdin.off('close', done);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    // EPIPE: the client stopped reading. Kept after closing, so a late write error is not a crash.
    process.stdout.on('error', done);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
