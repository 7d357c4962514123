/** Every `loupe` command, in the order `loupe --help` lists them. */
import type { Command } from 'commander';
import { registerLs } from './ls.js';
import { registerTail } from './tail.js';

export const commands: ((program: Command) => void)[] = [registerLs, registerTail];
