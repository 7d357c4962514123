/**
 * Starting and stopping captures: `loupe run` (a new tmux session whose command waits until its
 * pipe is attached), `loupe attach` and `loupe detach` (existing panes).
 *
 * The user's command never passes through tmux's command parser or format expansion: it is
 * written, shell-quoted, into a small launch script in the state dir, and tmux runs
 * `/bin/sh <script>` as an argv (RELIABILITY T6).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAgentId, checkTaskId, isAgentId, nowMicros, sanitizeAgentId, type CaptureMethod } from '../../../shared/entry.js';
import { ensureLogsDir, newTaskId, streamPath } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { loadConfig } from './config.js';
import { isHostRunning } from './host-lock.js';
import { attachPipe, detachPipe } from './pipe.js';
import {
  listCaptureIds,
  loadRecord,
  newCaptureId,
  removeCapture,
  saveRecord,
  socketStateDir,
  spoolPath,
  type CaptureRecord,
  repliesPath,
  type PaneReply,
} from './state.js';
import { DEFAULT_SOCKET_NAME, Tmux, TmuxError, tmuxBinary, tmuxLiteral } from './tmux.js';

/** A terminal size agents are comfortable in (wide enough for diffs, tall enough for a plan). */
/** The pane option the launch script sets to the command's exit status, read by the capture host. */
export const EXIT_STATUS_OPTION = '@loupe_exit_status';

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 32;
/** tmux accepts window sizes up to 10000. */
const MAX_SIZE = 10_000;

export interface RunAgentOptions {
  root: string;
  taskId?: string;
  /** Agent id; default: the command's basename, made unique within the task. */
  name?: string;
  socket?: string;
  cols?: number;
  rows?: number;
  method?: 'pipe' | 'poll';
  command: string[];
  /** Extra environment for the command, on top of the caller's. */
  env?: Record<string, string>;
  /** Working directory of the command; default: the caller's. */
  cwd?: string;
  /** Starts the capture host if none runs (default true; false when the caller hosts it). */
  startHost?: boolean;
}

export interface StartedCapture {
  agentId: string;
  taskId: string;
  logFile: string;
  paneId: string;
  session: string;
}

/** Quotes a word for POSIX sh: single quotes, with `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function checkSize(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_SIZE) {
    throw new TmuxError(`invalid ${what} ${JSON.stringify(value)}: use a whole number from 1 to ${MAX_SIZE}`);
  }
  return value;
}

/**
 * Claims a log file for a new agent (O_EXCL, so two runs never share one). Without an explicit
 * name, `base`, `base-2`, `base-3`, … is tried.
 */
function claimAgentLog(root: string, taskId: string, name: string | undefined, command: string): { agentId: string; logFile: string } {
  if (name !== undefined) {
    checkAgentId(name);
    const logFile = streamPath(root, taskId, name);
    try {
      fs.closeSync(fs.openSync(logFile, 'wx', 0o644));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new TmuxError(`agent ${JSON.stringify(name)} already exists in task ${taskId}; pick another --name or leave it out`);
      }
      throw err;
    }
    return { agentId: name, logFile };
  }
  const base = sanitizeAgentId(path.basename(command)).slice(0, 120);
  for (let n = 1; ; n++) {
    const agentId = n === 1 ? base : `${base}-${n}`;
    if (!isAgentId(agentId)) continue;
    const logFile = streamPath(root, taskId, agentId);
    try {
      fs.closeSync(fs.openSync(logFile, 'wx', 0o644));
      return { agentId, logFile };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** The absolute path of the tmux binary, so the launch script does not depend on the pane's PATH. */
function tmuxPath(): string {
  const bin = tmuxBinary();
  if (bin.includes('/')) return path.resolve(bin);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', bin);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return path.resolve(candidate);
    } catch {
      // not here
    }
  }
  return bin;
}

/** The launch script: waits for the gate, removes itself, sets cwd and env, then execs the command. */
function launchScript(gate: string, command: string[], cwd: string, env: Record<string, string>): string {
  const exports = Object.entries(env)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && k !== 'TMUX' && k !== 'TMUX_PANE')
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return [
    '# Written by `loupe run`; removes itself once the command starts.',
    'rm -f -- "$0"',
    // Hold the command until `loupe run` has attached the pipe (RELIABILITY T1).
    `${shellQuote(tmuxPath())} wait-for ${gate} || exit 125`,
    ...exports,
    `cd ${shellQuote(cwd)} || exit 126`,
    command.map(shellQuote).join(' '),
    // Record the exit status on the pane ourselves: tmux's #{pane_dead_status} is sometimes still
    // empty when the pane is already dead (seen under load), and then the status would be lost.
    'status=$?',
    `${shellQuote(tmuxPath())} set-option -p -t "$TMUX_PANE" ${EXIT_STATUS_OPTION} "$status" 2>/dev/null`,
    'exit "$status"',
    '',
  ].join('\n');
}

/** Writes the `started` system entry (with the pane's working folder, `cwd`, in `extra`) and returns the log's sequence after it. */
function writeStarted(record: CaptureRecord, extra: Record<string, unknown> = {}): number {
  const writer = new LogWriter(record.logFile, { agentId: record.agentId });
  try {
    writer.append({
      type: 'system',
      content: `[loupe] started: ${record.command} (${record.cols}x${record.rows}, ${record.method})`,
      metadata: {
        event: 'started',
        level: 'info',
        command: record.command,
        cols: record.cols,
        rows: record.rows,
        capture: record.method,
        tmux_session: record.session,
        pane_id: record.paneId,
        ...extra,
      },
    });
    writer.flush();
    return writer.lastSequence;
  } finally {
    writer.closeSync();
  }
}

/** Sets the pane options tmux keeps as Loupe's registry (one tmux call). */
async function setPaneOptions(tmux: Tmux, record: CaptureRecord, dir: string, remainOnExit: boolean): Promise<void> {
  const options: [string, string][] = [
    ['@loupe_capture', record.captureId],
    ['@loupe_spool', spoolPath(dir, record.captureId)],
    ['@loupe_log', record.logFile],
    ['@loupe_agent', record.agentId],
    ['@loupe_task', record.taskId],
    ['@loupe_root', record.root],
    ['@loupe_method', record.method],
  ];
  if (remainOnExit) {
    options.push(['remain-on-exit', 'on']); // keeps #{pane_dead_status} readable
    options.push(['remain-on-exit-format', '']); // no "Pane is dead" line in what polling and backfill read
  }
  const args: string[] = [];
  for (const [name, value] of options) {
    if (args.length > 0) args.push(';');
    args.push('set-option', '-p', '-t', tmuxLiteral(record.paneId), name, tmuxLiteral(value));
  }
  await tmux.run(args);
}

/** Opens the pipe, or falls back to polling; returns the method in use and why it fell back. */
async function startPipeOrPoll(tmux: Tmux, record: CaptureRecord, wanted: 'pipe' | 'poll'): Promise<string | undefined> {
  if (wanted === 'poll') return undefined;
  let failure = 'pipe-pane did not open';
  try {
    if (await attachPipe(tmux, record.paneId)) return undefined;
  } catch (err) {
    failure = (err as Error).message;
  }
  record.method = 'poll';
  await tmux.run(['set-option', '-p', '-t', tmuxLiteral(record.paneId), '@loupe_method', 'poll']);
  return `pipe-pane failed (${failure}); polling capture-pane instead`;
}

/** Starts `loupe daemon` for the socket, detached, unless a capture host already runs. */
export async function ensureCaptureHost(socketName: string): Promise<void> {
  if (await isHostRunning(socketName)) return;
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bin/loupe.js');
  const logFile = path.join(socketStateDir(socketName), 'host.log');
  const out = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [bin, 'daemon', '--socket', socketName, '--exit-when-idle'], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    child.unref();
  } finally {
    fs.closeSync(out);
  }
}

/**
 * `loupe run`: creates the task workspace and a detached tmux session running `command` under
 * capture. The command starts only once its capture is attached, so its first byte is captured.
 */
export async function runAgent(opts: RunAgentOptions): Promise<StartedCapture> {
  if (opts.command.length === 0) throw new TmuxError('no command given: put it after `--`, e.g. `loupe run -- claude`');
  const tmux = new Tmux(opts.socket ?? DEFAULT_SOCKET_NAME);
  const cols = checkSize(opts.cols, DEFAULT_COLS, '--cols');
  const rows = checkSize(opts.rows, DEFAULT_ROWS, '--rows');
  const root = path.resolve(opts.root);
  const taskId = opts.taskId !== undefined ? checkTaskId(opts.taskId) : newTaskId();
  if (opts.name !== undefined) checkAgentId(opts.name);
  // A bad loupe.config.json is reported now; the capture host would only log it and use the defaults.
  loadConfig(root);
  ensureLogsDir(root, taskId);
  const { agentId, logFile } = claimAgentLog(root, taskId, opts.name, opts.command[0]);
  const dir = socketStateDir(tmux.socketName);
  const captureId = newCaptureId(agentId);
  const gate = `loupe-gate-${captureId}`;
  const script = path.join(dir, `${captureId}.run.sh`);
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  fs.writeFileSync(script, launchScript(gate, opts.command, cwd, { ...(process.env as Record<string, string>), ...opts.env }), { mode: 0o600 });

  const record: CaptureRecord = {
    captureId,
    socketName: tmux.socketName,
    paneId: '',
    session: '',
    agentId,
    taskId,
    root,
    logFile,
    method: opts.method === 'poll' ? 'poll' : 'pipe-pane',
    command: opts.command.join(' '),
    phase: 'starting',
    createdAt: Date.now(),
    cols,
    rows,
    killDeadPane: true,
    offset: 0,
    sequence: 0,
  };
  saveRecord(dir, record);
  fs.writeFileSync(spoolPath(dir, captureId), '', { mode: 0o600 });

  try {
    const sessionName = `loupe-${agentId.replace(/[.:]/g, '_')}-${captureId.slice(-4)}`;
    const created = await tmux.run([
      'new-session', '-d', '-P', '-F', '#{pane_id}\t#{session_name}',
      '-s', sessionName, '-x', String(cols), '-y', String(rows),
      '--', '/bin/sh', tmuxLiteral(script),
    ]);
    const [paneId, session] = created.trim().split('\t');
    record.paneId = paneId;
    record.session = session;
    await setPaneOptions(tmux, record, dir, true);
    const fallback = await startPipeOrPoll(tmux, record, opts.method ?? 'pipe');
    record.sequence = writeStarted(record, { cwd, ...(fallback !== undefined ? { gap: fallback, level: 'warn' } : {}) });
    record.phase = 'capturing';
    saveRecord(dir, record);
    if (opts.startHost !== false) await ensureCaptureHost(tmux.socketName);
    await tmux.run(['wait-for', '-S', gate]);
    return { agentId, taskId, logFile, paneId, session };
  } catch (err) {
    removeCapture(dir, captureId);
    fs.rmSync(script, { force: true });
    if (record.paneId) await tmux.run(['kill-pane', '-t', record.paneId]).catch(() => {});
    throw err;
  }
}

export interface AttachOptions {
  root: string;
  target: string;
  taskId?: string;
  name?: string;
  socket?: string;
  method?: 'pipe' | 'poll';
  startHost?: boolean;
}

/** The capture record of a pane, if Loupe captures it on this socket. */
async function captureOfPane(tmux: Tmux, paneId: string): Promise<CaptureRecord | null> {
  const id = await tmux.display(paneId, '#{@loupe_capture}');
  if (id === '') return null;
  return loadRecord(socketStateDir(tmux.socketName), id);
}

/**
 * `loupe attach`: captures an existing pane from now on. Attaching a pane that is already captured
 * changes nothing and returns the existing capture (one pipe, one reader: RELIABILITY T2).
 */
export async function attachPane(opts: AttachOptions): Promise<StartedCapture & { alreadyCaptured: boolean }> {
  const tmux = new Tmux(opts.socket ?? DEFAULT_SOCKET_NAME);
  const info = await tmux.display(
    await tmux.paneIdOf(opts.target),
    '#{pane_id}\t#{session_name}\t#{pane_width}\t#{pane_height}\t#{pane_current_command}\t#{remain-on-exit}\t#{pane_dead}\t#{pane_current_path}',
  );
  const [paneId, session, cols, rows, current, remain, dead, cwd] = info.split('\t');
  if (dead === '1') throw new TmuxError(`pane ${paneId} (${opts.target}) has already ended; nothing to capture`);
  const existing = await captureOfPane(tmux, paneId);
  if (existing !== null) {
    if (existing.method === 'pipe-pane') await attachPipe(tmux, paneId);
    return { agentId: existing.agentId, taskId: existing.taskId, logFile: existing.logFile, paneId, session: existing.session, alreadyCaptured: true };
  }
  const root = path.resolve(opts.root);
  const taskId = opts.taskId !== undefined ? checkTaskId(opts.taskId) : newTaskId();
  if (opts.name !== undefined) checkAgentId(opts.name);
  // A bad loupe.config.json is reported now; the capture host would only log it and use the defaults.
  loadConfig(root);
  ensureLogsDir(root, taskId);
  const { agentId, logFile } = claimAgentLog(root, taskId, opts.name, current || 'pane');
  const dir = socketStateDir(tmux.socketName);
  const record: CaptureRecord = {
    captureId: newCaptureId(agentId),
    socketName: tmux.socketName,
    paneId,
    session,
    agentId,
    taskId,
    root,
    logFile,
    method: opts.method === 'poll' ? 'poll' : 'pipe-pane',
    command: current,
    phase: 'starting',
    createdAt: Date.now(),
    cols: Number(cols),
    rows: Number(rows),
    killDeadPane: remain !== 'on',
    offset: 0,
    sequence: 0,
  };
  saveRecord(dir, record);
  fs.writeFileSync(spoolPath(dir, record.captureId), '', { mode: 0o600 });
  try {
    await setPaneOptions(tmux, record, dir, remain !== 'on');
    const fallback = await startPipeOrPoll(tmux, record, opts.method ?? 'pipe');
    record.sequence = writeStarted(record, { attached: true, ...(cwd ? { cwd } : {}), ...(fallback !== undefined ? { gap: fallback, level: 'warn' } : {}) });
    record.phase = 'capturing';
    saveRecord(dir, record);
    if (opts.startHost !== false) await ensureCaptureHost(tmux.socketName);
  } catch (err) {
    removeCapture(dir, record.captureId);
    throw err;
  }
  return { agentId, taskId, logFile, paneId, session, alreadyCaptured: false };
}

/**
 * `loupe detach`: stops capturing a pane. The pipe closes, the capture host writes what is left
 * and a `terminated` entry ("capture detached"), and the pane keeps running.
 */
export async function detachPane(opts: { target: string; socket?: string }): Promise<{ paneId: string; agentId: string | null }> {
  const tmux = new Tmux(opts.socket ?? DEFAULT_SOCKET_NAME);
  const paneId = await tmux.paneIdOf(opts.target);
  const record = await captureOfPane(tmux, paneId);
  const unset: string[] = [];
  for (const name of ['@loupe_capture', '@loupe_spool', '@loupe_log', '@loupe_agent', '@loupe_task', '@loupe_root', '@loupe_method']) {
    if (unset.length > 0) unset.push(';');
    unset.push('set-option', '-p', '-u', '-t', tmuxLiteral(paneId), name);
  }
  if (record?.method === 'pipe-pane' || record === null) await detachPipe(tmux, paneId);
  if (record !== null && record.killDeadPane) unset.push(';', 'set-option', '-p', '-u', '-t', tmuxLiteral(paneId), 'remain-on-exit');
  await tmux.run(unset);
  return { paneId, agentId: record?.agentId ?? null };
}

/**
 * Types a reply into a captured pane (SPEC §13: answering a waiting agent from Loupe): `text`
 * literally, then Enter when asked. The capture host records it in the agent's log as a
 * `control` entry marked as user input, with who sent it.
 */
export async function replyToPane(opts: { paneId: string; socket: string; text: string; enter: boolean; by: string }): Promise<void> {
  const tmux = new Tmux(opts.socket);
  const record = await captureOfPane(tmux, opts.paneId);
  if (record === null) throw new TmuxError(`pane ${opts.paneId} is not captured any more; nothing was sent`);
  const target = tmuxLiteral(opts.paneId);
  const keys: string[] = [];
  if (opts.text !== '') keys.push('send-keys', '-t', target, '-l', opts.text);
  if (opts.enter) keys.push(...(keys.length > 0 ? [';'] : []), 'send-keys', '-t', target, 'Enter');
  if (keys.length === 0) return;
  await tmux.run(keys);
  const reply: PaneReply = { text: opts.text, enter: opts.enter, by: opts.by, at: nowMicros() };
  fs.appendFileSync(repliesPath(socketStateDir(opts.socket), record.captureId), JSON.stringify(reply) + '\n', { mode: 0o600 });
}

/** Capture ids recorded for a socket (for `loupe ls` and tests). */
export function recordedCaptures(socketName: string = DEFAULT_SOCKET_NAME): CaptureRecord[] {
  const dir = socketStateDir(socketName);
  return listCaptureIds(dir)
    .map((id) => loadRecord(dir, id))
    .filter((r): r is CaptureRecord => r !== null);
}
