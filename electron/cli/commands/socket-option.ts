/** The `--socket NAME` option every capture command shares (tmux `-L NAME`). */
import { checkSocketName } from '../../../shared/entry.js';

export const SOCKET_FLAGS = '--socket <name>';
export const SOCKET_HELP = 'tmux socket name, as in `tmux -L NAME` (default: the default tmux server)';

/** Validates --socket (commander's argParser), so a bad name fails before anything starts. */
export function parseSocket(value: string): string {
  return checkSocketName(value);
}

/** A repeatable --socket (commander's argParser): each name checked as it is read, collected in order. */
export function collectSocket(value: string, previous: string[] = []): string[] {
  return [...previous, parseSocket(value)];
}
