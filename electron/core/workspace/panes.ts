/**
 * The tmux panes of one server, with the `@loupe_*` pane options that mark a captured pane
 * (set by the capture engine when it attaches).
 */
import { Tmux, TmuxError } from '../capture/tmux.js';

export interface TmuxPane {
  /** `%3`: stable for the pane's life, the best target for `loupe attach`. */
  paneId: string;
  /** `session:window.pane` */
  target: string;
  session: string;
  /** The program in the foreground (`pane_current_command`). */
  command: string;
  cols: number;
  rows: number;
  pid: number | null;
  /** The program exited but the pane stays (`remain-on-exit`). */
  dead: boolean;
  /** The log file this pane is captured into (`@loupe_log`), or null when it is not captured. */
  log: string | null;
  agentId: string | null;
  taskId: string | null;
  root: string | null;
}

/** What one tmux server answered. `error` is set when it could not be asked (not installed, wedged). */
export interface PaneListing {
  socket: string;
  /** Whether a server listens on the socket. */
  running: boolean;
  panes: TmuxPane[];
  error: string | null;
}

/** Unit separator: cannot appear in pane titles or paths a user types, and tmux passes it through. */
const SEP = '\x1f';

const FIELDS = [
  '#{pane_id}',
  '#{session_name}:#{window_index}.#{pane_index}',
  '#{session_name}',
  '#{pane_current_command}',
  '#{pane_width}',
  '#{pane_height}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{@loupe_log}',
  '#{@loupe_agent}',
  '#{@loupe_task}',
  '#{@loupe_root}',
] as const;

/** Lists every pane of the tmux server on `socket` (`-L`; "default" is the server started without -L). */
export async function listTmuxPanes(socket: string): Promise<PaneListing> {
  const tmux = new Tmux(socket);
  let out: string;
  try {
    out = await tmux.run(['list-panes', '-a', '-F', FIELDS.join(SEP)]);
  } catch (err) {
    if (err instanceof TmuxError && err.noServer) return { socket, running: false, panes: [], error: null };
    return { socket, running: false, panes: [], error: (err as Error).message };
  }
  const panes: TmuxPane[] = [];
  for (const line of out.split('\n')) {
    const f = line.split(SEP);
    if (f.length !== FIELDS.length) continue;
    const [paneId, target, session, command, cols, rows, pid, dead, log, agentId, taskId, root] = f;
    panes.push({
      paneId,
      target,
      session,
      command,
      cols: Number(cols),
      rows: Number(rows),
      pid: pid === '' ? null : Number(pid),
      dead: dead === '1',
      log: log || null,
      agentId: agentId || null,
      taskId: taskId || null,
      root: root || null,
    });
  }
  return { socket, running: true, panes, error: null };
}
