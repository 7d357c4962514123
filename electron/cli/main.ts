/**
 * The `loupe` CLI: a thin layer over electron/core. Each command lives in commands/<name>.ts
 * and registers itself on the program; only the command being run is loaded.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from './errors.js';
import { commandsFor } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  ignoreClosedStdout();
  const program = new Command('loupe')
    .description('Watch, search, replay and share the terminal output of AI coding agents running in tmux.')
    .version('0.1.0')
    .showHelpAfterError('(run `loupe help <command>` for its options)')
    .exitOverride();
  for (const register of await commandsFor(argv)) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isUserError(err)) {
      process.stderr.write(`loupe: ${err.message}\n`);
      return (err as { exitCode?: number }).exitCode ?? 2;
    }
    throw err;
  }
}

/**
 * `loupe search x | head -1`: once the reader has gone, writes to stdout fail with EPIPE (and then
 * as a destroyed stream). That is not the command's failure: it finishes quietly, with its status.
 * Other write errors still surface.
 */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}
