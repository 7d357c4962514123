/** Every `loupe` command, in the order `loupe --help` lists them. */
import type { Command } from 'commander';

export const commands: ((program: Command) => void)[] = [];
