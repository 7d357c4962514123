/**
 * Every `loupe` command, in the order `loupe --help` lists them. Each is loaded only when it is
 * run (or when help lists them all), so a command pays only for the modules it needs at start.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export const commandLoaders: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./run.js')).registerRun,
  attach: async () => (await import('./attach.js')).registerAttach,
  detach: async () => (await import('./detach.js')).registerDetach,
  daemon: async () => (await import('./daemon.js')).registerDaemon,
  ls: async () => (await import('./ls.js')).registerLs,
  wait: async () => (await import('./wait.js')).registerWait,
  demo: async () => (await import('./demo.js')).registerDemo,
  tail: async () => (await import('./tail.js')).registerTail,
  search: async () => (await import('./search.js')).registerSearch,
  stats: async () => (await import('./stats.js')).registerStats,
  reindex: async () => (await import('./reindex.js')).registerReindex,
  import: async () => (await import('./import.js')).registerImport,
  serve: async () => (await import('./serve.js')).registerServe,
  ship: async () => (await import('./ship.js')).registerShip,
  store: async () => (await import('./store.js')).registerStore,
  mcp: async () => (await import('./mcp.js')).registerMcp,
  export: async () => (await import('./export.js')).registerExport,
  screen: async () => (await import('./screen.js')).registerScreen,
  replay: async () => (await import('./replay.js')).registerReplay,
};

/**
 * The commands to register for `argv`: only the one being run, or all of them for help, a bare
 * `loupe` and an unknown name (so commander lists them and suggests the nearest).
 */
export async function commandsFor(argv: string[]): Promise<Register[]> {
  const name = argv[2];
  const names = name !== undefined && Object.hasOwn(commandLoaders, name) ? [name] : Object.keys(commandLoaders);
  return Promise.all(names.map((n) => commandLoaders[n]!()));
}
