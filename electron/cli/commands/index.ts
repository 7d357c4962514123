/** Every `loupe` command, in the order `loupe --help` lists them. */
import type { Command } from 'commander';
import { registerAttach } from './attach.js';
import { registerDaemon } from './daemon.js';
import { registerDemo } from './demo.js';
import { registerDetach } from './detach.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerLs } from './ls.js';
import { registerMcp } from './mcp.js';
import { registerReindex } from './reindex.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerScreen } from './screen.js';
import { registerSearch } from './search.js';
import { registerServe } from './serve.js';
import { registerShip } from './ship.js';
import { registerStats } from './stats.js';
import { registerStore } from './store.js';
import { registerTail } from './tail.js';
import { registerWait } from './wait.js';

export const commands: ((program: Command) => void)[] = [registerRun, registerAttach, registerDetach, registerDaemon, registerLs, registerWait, registerDemo, registerTail, registerSearch, registerStats, registerReindex, registerImport, registerServe, registerShip, registerStore, registerMcp, registerExport, registerScreen, registerReplay];
