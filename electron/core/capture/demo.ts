/**
 * `loupe demo`: four realistic fake agents under capture, in one new task, so a new user sees
 * live output at once. They are POSIX sh scripts (resources/demo/), so they need neither network
 * nor python nor a system node, and run wherever tmux does.
 *
 * Between them they print colored diffs, `\r` spinners and progress bars, tool-call lines in the
 * forms the classifier knows, a long compiler-style build log with warnings, and a Python
 * traceback from an agent that exits with status 1; two keep working for a few minutes so
 * `loupe tail -f` has something to follow.
 */
import path from 'node:path';
import { newTaskId } from '../log/paths.js';
import { resourcePath } from './resources.js';
import { runAgent, type StartedCapture } from './session.js';

/** A demo agent: its id and the script under resources/demo/ that plays it. */
export interface DemoAgent {
  name: string;
  script: string;
  /** What it shows, for `loupe demo`'s output. */
  shows: string;
}

export const DEMO_AGENTS: readonly DemoAgent[] = [
  { name: 'claude-refactor', script: 'claude-refactor.sh', shows: 'tool calls, a colored diff, spinners; keeps working ~3 min' },
  { name: 'build', script: 'build.sh', shows: 'a long build log with warnings and a progress bar (~40 s)' },
  { name: 'migrate', script: 'migrate.sh', shows: 'progress bars, then a Python traceback; exits with status 1 (~20 s)' },
  { name: 'codex-review', script: 'codex-review.sh', shows: 'Codex-style tool calls, a failing test run; keeps working ~3 min' },
];

export interface DemoOptions {
  root: string;
  socket?: string;
  /** Skip the scripts' pauses and shorten their loops (tests). */
  fast?: boolean;
  /** Starts the capture host if none runs (default true). */
  startHost?: boolean;
}

export interface StartedDemo {
  taskId: string;
  agents: (StartedCapture & { shows: string })[];
}

/** The folder holding the demo scripts: resources/demo/ next to dist/ (or to the sources, under vitest). */
export function demoScriptsDir(): string {
  if (process.env.LOUPE_DEMO_DIR) return process.env.LOUPE_DEMO_DIR;
  return resourcePath('demo');
}

/** Starts the demo agents in one new task under `root`. */
export async function startDemo(options: DemoOptions): Promise<StartedDemo> {
  const dir = demoScriptsDir();
  const taskId = newTaskId();
  const agents: StartedDemo['agents'] = [];
  for (const agent of DEMO_AGENTS) {
    const started = await runAgent({
      root: options.root,
      taskId,
      name: agent.name,
      socket: options.socket,
      // /bin/sh runs the script from its path, so the install folder may contain any character.
      command: ['/bin/sh', path.join(dir, agent.script)],
      cwd: options.root,
      env: options.fast ? { LOUPE_DEMO_FAST: '1' } : {},
      startHost: options.startHost,
    });
    agents.push({ ...started, shows: agent.shows });
  }
  return { taskId, agents };
}
