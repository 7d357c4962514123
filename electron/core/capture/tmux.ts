/**
 * A small tmux client: runs `tmux [-L socket] …` with argv (never through a shell) and turns
 * tmux's failures into one-line `TmuxError`s a user can act on.
 */
import { execFile, execFileSync } from 'node:child_process';
import { checkSocketName } from '../../../shared/entry.js';

/** The tmux binary: `LOUPE_TMUX` overrides PATH lookup (tests, unusual installs). */
export function tmuxBinary(): string {
  return process.env.LOUPE_TMUX ?? 'tmux';
}

/** tmux's default `-L` name: a server started without `-L` listens on this socket. */
export const DEFAULT_SOCKET_NAME = 'default';

/** tmux calls are short; one that takes longer than this is stuck (a wedged server). */
const TMUX_CALL_TIMEOUT_MS = 10_000;

/** A tmux call failed; the message says which server or target and what to do. */
export class TmuxError extends Error {
  override name = 'TmuxError';
  constructor(
    message: string,
    /** True when no tmux server listens on the socket (it was never started, or it was killed). */
    readonly noServer = false,
  ) {
    super(message);
  }
}

/**
 * tmux splits commands at an argument that ends in `;` (and turns a trailing `\;` into `;`),
 * so a literal trailing `;` needs a backslash. Apply this to every argument that carries user text.
 */
export function tmuxLiteral(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

function serverName(socketName: string): string {
  return socketName === DEFAULT_SOCKET_NAME ? 'the default tmux server' : `tmux server "${socketName}" (-L ${socketName})`;
}

function listPanesHint(socketName: string): string {
  return `list panes with \`tmux${socketName === DEFAULT_SOCKET_NAME ? '' : ` -L ${socketName}`} list-panes -a\``;
}

function describeFailure(socketName: string, args: string[], stderr: string): TmuxError {
  const text = stderr.trim().split('\n')[0] ?? '';
  const where = serverName(socketName);
  if (/no server running|error connecting to|No such file or directory|server exited/i.test(text)) {
    return new TmuxError(`${where} is not running; start it (e.g. \`loupe run\`) or pass the right --socket`, true);
  }
  if (/can't find (pane|window|session)/i.test(text)) {
    return new TmuxError(`${where}: ${text}; ${listPanesHint(socketName)}`);
  }
  return new TmuxError(`tmux ${args[0] ?? ''} failed on ${where}: ${text || 'no message'}`);
}

/** One tmux server, addressed by its `-L` socket name. */
export class Tmux {
  readonly socketName: string;

  constructor(socketName: string = DEFAULT_SOCKET_NAME) {
    this.socketName = checkSocketName(socketName);
  }

  private argv(args: string[]): string[] {
    return ['-L', this.socketName, ...args];
  }

  /** Runs a tmux command and resolves with its stdout. */
  run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        tmuxBinary(),
        this.argv(args),
        { timeout: TMUX_CALL_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (err === null) return resolve(stdout);
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'ENOENT') {
            return reject(new TmuxError('tmux is not installed or not on PATH; install tmux 3.2 or newer'));
          }
          reject(describeFailure(this.socketName, args, stderr || e.message));
        },
      );
    });
  }

  /** Synchronous `run`, for the few places that cannot await (process exit paths). */
  runSync(args: string[]): string {
    try {
      return execFileSync(tmuxBinary(), this.argv(args), {
        timeout: TMUX_CALL_TIMEOUT_MS,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new TmuxError('tmux is not installed or not on PATH; install tmux 3.2 or newer');
      throw describeFailure(this.socketName, args, e.stderr ?? e.message);
    }
  }

  /** Expands `format` for one target (`display-message -p`). */
  async display(target: string, format: string): Promise<string> {
    return (await this.run(['display-message', '-p', '-t', tmuxLiteral(target), format])).replace(/\n$/, '');
  }

  /**
   * The id (`%3`) of the pane a target names. tmux's display-message prints nothing, and
   * succeeds, for a pane id that does not exist, so that case is told here.
   */
  async paneIdOf(target: string): Promise<string> {
    const paneId = await this.display(target, '#{pane_id}');
    if (paneId === '') throw new TmuxError(`${serverName(this.socketName)}: can't find pane: ${target}; ${listPanesHint(this.socketName)}`);
    return paneId;
  }
}
