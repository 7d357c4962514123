/**
 * Attaching tmux's pipe-pane to loupe-pipe.sh. The pipe-pane command is fixed text: tmux expands
 * `#{…}`, `#(…)` and `%` in it, so it names only the helper and two tmux formats, quoted by tmux
 * itself (`#{q:…}`); the helper looks up the pane's spool.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resourcePath } from './resources.js';
import { stateDir } from './state.js';
import { tmuxLiteral, type Tmux } from './tmux.js';

/** Characters a path may hold and still be pasted into a pipe-pane command unquoted. */
const SAFE_PATH = /^[A-Za-z0-9/._+-]+$/;

/** The helper shipped with Loupe: resources/capture/loupe-pipe.sh (outside any asar). */
export function bundledHelperPath(): string {
  if (process.env.LOUPE_PIPE_HELPER) return process.env.LOUPE_PIPE_HELPER;
  return resourcePath('capture/loupe-pipe.sh');
}

/**
 * A path to the helper that is safe inside a pipe-pane command. When the install path holds
 * characters tmux or sh would interpret, the helper is copied into the state dir.
 */
export function safeHelperPath(): string {
  const bundled = bundledHelperPath();
  if (SAFE_PATH.test(bundled)) return bundled;
  const copy = path.join(stateDir(), 'bin', 'loupe-pipe.sh');
  if (!SAFE_PATH.test(copy)) {
    throw new Error(
      `Loupe's state dir ${JSON.stringify(stateDir())} contains characters tmux would expand in a pipe-pane command; set LOUPE_STATE_DIR to a plain path`,
    );
  }
  const text = fs.readFileSync(bundled);
  let current: Buffer | null = null;
  try {
    current = fs.readFileSync(copy);
  } catch {
    // not copied yet
  }
  if (current === null || !current.equals(text)) {
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.writeFileSync(`${copy}.tmp`, text, { mode: 0o755 });
    fs.renameSync(`${copy}.tmp`, copy);
  }
  return copy;
}

/** The exact pipe-pane command: no ids, no user paths. */
export function pipeCommand(): string {
  return `exec /bin/sh ${safeHelperPath()} #{q:socket_path} #{q:pane_id}`;
}

/**
 * Opens the pipe if it is not open already (`-O` opens only; `-o` would toggle) and confirms it
 * with `#{pane_pipe}`. Resolves true when the pane is piped.
 */
export async function attachPipe(tmux: Tmux, paneId: string): Promise<boolean> {
  const target = tmuxLiteral(paneId);
  if ((await tmux.display(paneId, '#{pane_pipe}')) === '1') return true;
  await tmux.run(['pipe-pane', '-O', '-t', target, pipeCommand()]);
  return (await tmux.display(paneId, '#{pane_pipe}')) === '1';
}

/** Closes the pane's pipe (pipe-pane with no command). */
export async function detachPipe(tmux: Tmux, paneId: string): Promise<void> {
  await tmux.run(['pipe-pane', '-t', tmuxLiteral(paneId)]);
}
