/**
 * Which coding agent a pane runs, read from its process tree (SPEC §14: a captured pane that ran
 * `claude` or `codex` is linked to that agent's transcript by folder and time).
 *
 * tmux's `#{pane_current_command}` names only the foreground process group's leader: a shell, or
 * `loupe run`'s launch script, or `node` for an agent installed through npm. So the tree under the
 * pane's first process is walked (`/proc/<pid>/task/<pid>/children`) and each process's name
 * (`comm`: a script's own name, or the title an agent sets) and command line are read. Linux only; elsewhere nothing is found and runs are linked by their command alone.
 */
import fs from 'node:fs';
import path from 'node:path';

export type AgentKind = 'claude' | 'codex';

export interface AgentProcess {
  agent: AgentKind;
  pid: number;
  /** The process's working folder (where the agent writes its transcript's `cwd`), null when unreadable. */
  cwd: string | null;
  /** Its command line, arguments joined by spaces. */
  command: string;
}

/** A pane runs few processes; this bounds the walk for one that runs a build with thousands. */
const MAX_PROCESSES = 256;

/** Interpreters an agent may run under (`node /usr/lib/node_modules/.../cli.js`). */
const INTERPRETERS = new Set(['node', 'nodejs', 'bun', 'deno']);

/**
 * The agent a command line runs, from its program's name (`claude`, `codex`,
 * `codex-x86_64-unknown-linux-musl`) or an interpreter's script (`node …/bin/codex.js`,
 * `node …/@anthropic-ai/claude-code/cli.js`); null for anything else.
 */
export function agentOfCommand(argv: readonly string[]): AgentKind | null {
  const program = argv[0] === undefined ? '' : path.basename(argv[0]);
  const named = agentOfName(program);
  if (named !== null) return named;
  if (!INTERPRETERS.has(program)) return null;
  const script = argv.slice(1).find((a) => !a.startsWith('-'));
  if (script === undefined) return null;
  if (/[\\/]@anthropic-ai[\\/]claude-code[\\/]/.test(script)) return 'claude';
  if (/[\\/]@openai[\\/]codex[\\/]/.test(script)) return 'codex';
  return agentOfName(path.basename(script).replace(/\.[cm]?js$/, ''));
}

function agentOfName(name: string): AgentKind | null {
  if (name === 'claude') return 'claude';
  if (name === 'codex' || name.startsWith('codex-')) return 'codex';
  return null;
}

/** The first agent process in the tree under `rootPid` (breadth first, the root included), or null. */
export function findAgentProcess(rootPid: number): AgentProcess | null {
  const queue = [rootPid];
  for (let seen = 0; seen < queue.length && seen < MAX_PROCESSES; seen++) {
    const pid = queue[seen];
    // The name alone settles most processes; only an interpreter's command line says what it runs.
    const name = processName(pid);
    const argv = agentOfName(name) !== null || INTERPRETERS.has(name) ? commandLine(pid) : null;
    const agent = agentOfName(name) ?? (argv === null ? null : agentOfCommand(argv));
    if (agent !== null) return { agent, pid, cwd: workingFolder(pid), command: (argv ?? [name]).join(' ') };
    queue.push(...childrenOf(pid));
  }
  return null;
}

/** The kernel's name for a process: a script's file name (not its interpreter's), at most 15 bytes. */
function processName(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return '';
  }
}

function commandLine(pid: number): string[] | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return argv.length > 0 ? argv : null;
  } catch {
    return null; // gone, or not Linux
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function workingFolder(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}
