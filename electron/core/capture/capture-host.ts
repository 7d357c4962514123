/**
 * The capture host: one per tmux socket. It converts every captured pane's spool into JSONL and
 * supervises the captures (SPEC §4, RELIABILITY T3, T4, T9):
 *
 * - Every SUPERVISE_INTERVAL_MS, one `tmux list-panes -a` call tells it, per captured pane,
 *   whether the pipe is open, whether the pane has ended (and its exit status) and its size.
 * - A dead pipe on a live pane: `capture_lost`, backfill from `capture-pane`, re-attach, `gap`.
 * - An ended pane: drain its spool, write `terminated` with the exit status, close the pane.
 * - A resized pane: `resized` with cols/rows.
 * - The tmux server gone: every capture ends with `terminated` (exit status unknown).
 *
 * `loupe daemon` runs it; the Electron main process can embed it (a class, no process globals).
 */
import fs from 'node:fs';
import type { LogWriteError } from '../log/writer.js';
import { formatTimestamp, type EntryMetadata } from '../../../shared/entry.js';
import { compileClassifier, type ClassifierFactory } from './classify.js';
import { loadConfig } from './config.js';
import { acquireHostLock, type HostLock } from './host-lock.js';
import { findAgentProcess } from './agentProcess.js';
import { attachPipe } from './pipe.js';
import { PollCapture } from './poll-capture.js';
import { backfillLines } from './backfill.js';
import { SpoolCapture } from './spool-capture.js';
import {
  eofMarkerPath,
  listCaptureIds,
  loadRecord,
  removeCapture,
  socketStateDir,
  spoolPath,
  takeReplies,
  type CaptureRecord,
} from './state.js';
import { EXIT_STATUS_OPTION } from './session.js';
import { Tmux, TmuxError } from './tmux.js';

/** One tmux call per second notices ended panes, dead pipes and resizes. */
export const SUPERVISE_INTERVAL_MS = 1000;
/** After a pane ends, its spool must stay unchanged this long before the capture is closed. */
const DRAIN_QUIET_MS = 300;
/** Give up waiting for a quiet spool (a stalled reader) after this long. */
const DRAIN_LIMIT_MS = 10_000;
/** After the server died, how long to wait for the helper to mark the spool complete. */
const EOF_WAIT_MS = 2000;
/** A record still `starting` after this long belongs to a `loupe run` that died half-way. */
const ABANDONED_START_MS = 30_000;
/** How soon after a state-dir change (a new capture) the host looks at tmux. */
const NEW_CAPTURE_DELAY_MS = 20;

/** What the host needs of a pane's exit: the status `loupe run`'s launch script recorded, else tmux's. */
const EXIT_FORMAT = `#{${EXIT_STATUS_OPTION}}\t#{pane_dead_status}\t#{pane_dead_signal}`;
const PANE_FORMAT = [
  '#{pane_id}', '#{@loupe_capture}', '#{pane_pipe}', '#{pane_dead}', EXIT_FORMAT, '#{pane_width}', '#{pane_height}', '#{pane_pid}', '#{pane_current_command}',
].join('\t');
/**
 * How often a pane's process tree is looked at for a coding agent besides whenever its
 * foreground command changes. A look reads two /proc files per process (about 0.1 ms of CPU for
 * a shell running one command), so 100 panes cost about 0.2% of a core at this interval.
 */
const AGENT_LOOK_INTERVAL_MS = 5000;

interface PaneState {
  paneId: string;
  captureId: string;
  piped: boolean;
  dead: boolean;
  exitStatus: number | null;
  cols: number;
  rows: number;
  /** The pane's first process, and the name of its foreground process. */
  pid: number;
  currentCommand: string;
}

/** What the host last saw of a pane's agent process (agentProcess.ts). */
interface AgentLook {
  currentCommand: string;
  at: number;
  /** The agent process last recorded in the log (`agent`, `pid`, `cwd`), or null. */
  recorded: string | null;
}

/** A pane capture the host runs: spool-fed (pipe-pane) or polled. */
export type PaneCapture = SpoolCapture | PollCapture;

export interface CaptureHostOptions {
  socketName?: string;
  /** Diagnostics (the daemon writes them to its log). */
  log?: (message: string) => void;
  /** Called once the host has nothing left to capture (no capture records, none closing). */
  onIdle?: () => void;
}

/** Reasons written into `terminated` entries. */
const SERVER_GONE = 'the tmux server ended';
/** How long to wait for tmux to reap a dead pane's command and report its exit status. */
const EXIT_STATUS_WAIT_MS = 5000;

interface RootSettings {
  newClassifier: ClassifierFactory;
  rotateBytes?: number;
}

export class CaptureHost {
  readonly tmux: Tmux;
  readonly dir: string;
  private readonly log: (message: string) => void;
  private readonly onIdle: (() => void) | undefined;
  private lock: HostLock | null = null;
  private readonly captures = new Map<string, PaneCapture>();
  /** Captures being closed (draining); the supervisor leaves them alone. */
  private readonly ending = new Set<string>();
  /** Per root: the compiled classification rules and the rotation size from its config. */
  private readonly rootSettings = new Map<string, RootSettings>();
  /** Captures whose log could not be opened, reported once each. */
  private readonly openFailures = new Set<string>();
  /** Per capture id: when its process tree was last looked at, and what was found. */
  private readonly agentLooks = new Map<string, AgentLook>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private dirWatcher: fs.FSWatcher | null = null;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private disposed = false;

  constructor(options: CaptureHostOptions = {}) {
    this.tmux = new Tmux(options.socketName);
    this.dir = socketStateDir(this.tmux.socketName);
    this.log = options.log ?? (() => {});
    this.onIdle = options.onIdle;
  }

  /** Takes the per-socket lock and starts capturing. Resolves false when another host runs. */
  async start(): Promise<boolean> {
    this.lock = await acquireHostLock(this.tmux.socketName);
    if (this.lock === null) return false;
    try {
      this.dirWatcher = fs.watch(this.dir, (_event, name) => {
        if (this.isNewCaptureRecord(name)) this.scheduleTick(NEW_CAPTURE_DELAY_MS);
      });
      this.dirWatcher.on('error', () => this.dirWatcher?.close());
    } catch {
      // The periodic tick still finds new captures.
    }
    this.scheduleTick(0);
    return true;
  }

  /** Capture ids the host is converting right now. */
  activeCaptures(): string[] {
    return [...this.captures.keys()];
  }

  /** Runs one supervision pass now (tests and callers that just changed something). */
  async superviseNow(): Promise<void> {
    if (this.ticking !== null) {
      this.tickAgain = true;
      await this.ticking;
      if (this.ticking !== null) await this.ticking;
      return;
    }
    await this.runTick();
  }

  /**
   * Whether a change in the state folder may be a capture this host has not opened yet. Spools,
   * markers and the records of open captures change on every read: reacting to those would keep
   * postponing the tick for as long as any pane prints.
   */
  private isNewCaptureRecord(name: string | null): boolean {
    if (name === null) return true;
    if (!name.endsWith('.json')) return false;
    return !this.captures.has(name.slice(0, -'.json'.length));
  }

  /** Runs a tick after `delayMs`, unless one is already due sooner. */
  private scheduleTick(delayMs: number): void {
    if (this.disposed) return;
    const due = Date.now() + delayMs;
    if (this.timer !== null) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.superviseNow().finally(() => this.scheduleTick(SUPERVISE_INTERVAL_MS));
    }, delayMs);
  }

  private async runTick(): Promise<void> {
    this.ticking = (async () => {
      do {
        this.tickAgain = false;
        try {
          await this.supervise();
        } catch (err) {
          this.log(`supervise failed: ${(err as Error).stack ?? String(err)}`);
        }
      } while (this.tickAgain && !this.disposed);
    })();
    try {
      await this.ticking;
    } finally {
      this.ticking = null;
    }
  }

  /** Captured panes by capture id, plus the ids of every pane (to tell a detached pane from a closed one). */
  private async listPanes(): Promise<{ byCapture: Map<string, PaneState>; paneIds: Set<string> } | null> {
    let out: string;
    try {
      out = await this.tmux.run(['list-panes', '-a', '-F', PANE_FORMAT]);
    } catch (err) {
      if (err instanceof TmuxError && err.noServer) return null;
      throw err;
    }
    const panes = new Map<string, PaneState>();
    const paneIds = new Set<string>();
    for (const line of out.split('\n')) {
      const [paneId, captureId, pipe, dead, recorded, status, signal, cols, rows, pid, currentCommand] = line.split('\t');
      if (paneId) paneIds.add(paneId);
      if (!captureId) continue;
      panes.set(captureId, {
        paneId,
        captureId,
        piped: pipe === '1',
        dead: dead === '1',
        exitStatus: exitStatusOf(recorded, status, signal),
        cols: Number(cols),
        rows: Number(rows),
        pid: Number(pid),
        currentCommand: currentCommand ?? '',
      });
    }
    return { byCapture: panes, paneIds };
  }

  private async supervise(): Promise<void> {
    if (this.disposed) return;
    const ids = new Set([...listCaptureIds(this.dir), ...this.captures.keys()]);
    // New captures' records are read before the panes are listed. A capture that `loupe run` or
    // `attach` finished starting after the list was taken would otherwise be judged by a list from
    // before its pane had Loupe's options, and be finished as detached while it runs on.
    const newRecords = new Map<string, CaptureRecord | null>();
    for (const id of ids) if (!this.captures.has(id)) newRecords.set(id, loadRecord(this.dir, id));
    const listed = await this.listPanes();
    const panes = listed?.byCapture ?? null;
    for (const id of ids) {
      if (this.ending.has(id) || this.disposed) continue;
      const pane = panes?.get(id);
      let capture = this.captures.get(id);
      if (capture === undefined) {
        // Read again: a capture that ended while the panes were listed has no record any more.
        const record = loadRecord(this.dir, id);
        if (record === null) continue;
        if (record.phase === 'starting') {
          if (Date.now() - record.createdAt > ABANDONED_START_MS && pane === undefined) removeCapture(this.dir, id);
          continue;
        }
        // Still starting (or not there) before the listing: judged at the next look, against a newer list.
        if (newRecords.get(id)?.phase !== 'capturing') continue;
        capture = this.open(record);
        if (capture === undefined) {
          // A log that cannot be opened (its folder deleted, say) whose pane is gone can never be finished.
          if (panes === null || pane === undefined) {
            this.log(`dropping capture ${id}: its log cannot be opened and its pane is gone`);
            removeCapture(this.dir, id);
          }
          continue;
        }
      }
      if (panes === null) {
        void this.finish(id, capture, null, SERVER_GONE, 'server');
      } else if (pane === undefined && listed?.paneIds.has(capture.record.paneId)) {
        void this.finish(id, capture, null, 'capture detached; the pane keeps running', 'detached');
      } else if (pane === undefined) {
        void this.finish(id, capture, null, 'the pane was closed', 'closed');
      } else if (pane.dead) {
        void this.finish(id, capture, pane.exitStatus, 'the command exited', 'exited');
      } else {
        await this.checkLivePane(capture, pane);
      }
    }
    if (ids.size === 0 && this.captures.size === 0 && this.ending.size === 0) await this.becomeIdle();
  }

  /** Nothing to capture: offer to stop (a daemon exits; a host started without onIdle keeps going). */
  private async becomeIdle(): Promise<void> {
    if (this.onIdle === undefined || this.lock === null) return;
    // Release the lock before the final look, so a `loupe run` racing with us either sees no host
    // (and starts one) or is seen here.
    await this.lock.release();
    this.lock = null;
    if (listCaptureIds(this.dir).length > 0) {
      this.lock = await acquireHostLock(this.tmux.socketName);
      if (this.lock !== null) return;
    }
    this.onIdle();
  }

  /**
   * A root's config, loaded once. Each capture gets its own classifier from the factory,
   * because a classifier keeps per-agent state (it knows when it is inside a traceback).
   */
  private settingsFor(root: string): RootSettings {
    let settings = this.rootSettings.get(root);
    if (settings === undefined) {
      try {
        const { config } = loadConfig(root);
        settings = { newClassifier: compileClassifier(config), rotateBytes: config.rotateBytes };
      } catch (err) {
        this.log(`the config under ${root} is invalid, using the defaults: ${(err as Error).message}`);
        settings = { newClassifier: compileClassifier() };
      }
      this.rootSettings.set(root, settings);
    }
    return settings;
  }

  private open(record: CaptureRecord): PaneCapture | undefined {
    const { newClassifier, rotateBytes } = this.settingsFor(record.root);
    const writerOptions = { rotateBytes, onWriteError: (e: LogWriteError) => this.log(e.message) };
    try {
      const capture: PaneCapture =
        record.method === 'poll'
          ? new PollCapture(this.dir, record, newClassifier(), this.tmux, writerOptions)
          : new SpoolCapture(this.dir, spoolPath(this.dir, record.captureId), record, newClassifier(), writerOptions);
      this.captures.set(record.captureId, capture);
      capture.start();
      return capture;
    } catch (err) {
      if (!this.openFailures.has(record.captureId)) {
        this.openFailures.add(record.captureId);
        this.log(`cannot open capture ${record.captureId} (${record.logFile}): ${(err as Error).message}`);
      }
      return undefined;
    }
  }

  private async checkLivePane(capture: PaneCapture, pane: PaneState): Promise<void> {
    const record = capture.record;
    // Replies sent from Loupe: recorded as user input, so the log shows who answered what.
    for (const reply of takeReplies(this.dir, record.captureId)) {
      capture.writeEvent({
        type: 'control',
        content: reply.text + (reply.enter ? '\r' : ''),
        metadata: { event: 'user_input', by: reply.by, sent_at: formatTimestamp(reply.at) },
      });
    }
    if (pane.cols !== record.cols || pane.rows !== record.rows) {
      record.cols = pane.cols;
      record.rows = pane.rows;
      capture.writeEvent({
        type: 'system',
        content: `[loupe] resized to ${pane.cols}x${pane.rows}`,
        metadata: { event: 'resized', cols: pane.cols, rows: pane.rows, level: 'info' },
      });
    }
    this.lookForAgent(capture, pane);
    if (capture instanceof SpoolCapture) {
      if (!pane.piped) await this.reattach(capture, pane);
      capture.pump(); // safety poll, in case an inotify event was missed
    }
  }

  /**
   * Records a `claude` or `codex` process in the pane (an `agent_process` system entry with the
   * agent, its pid, working folder and command line), once per process, so the index can link the
   * run to that agent's transcript. Looked at when the foreground command changes and every
   * AGENT_LOOK_INTERVAL_MS.
   */
  private lookForAgent(capture: PaneCapture, pane: PaneState): void {
    const id = capture.record.captureId;
    const now = Date.now();
    const last = this.agentLooks.get(id);
    if (last !== undefined && last.currentCommand === pane.currentCommand && now - last.at < AGENT_LOOK_INTERVAL_MS) return;
    const found = Number.isInteger(pane.pid) && pane.pid > 0 ? findAgentProcess(pane.pid) : null;
    const key = found === null ? null : JSON.stringify([found.agent, found.pid, found.cwd]);
    this.agentLooks.set(id, { currentCommand: pane.currentCommand, at: now, recorded: key ?? last?.recorded ?? null });
    if (found === null || key === last?.recorded) return;
    capture.writeEvent({
      type: 'system',
      content: `[loupe] ${found.agent} is running in the pane (pid ${found.pid}${found.cwd === null ? '' : `, in ${found.cwd}`})`,
      metadata: { event: 'agent_process', level: 'debug', agent: found.agent, pid: found.pid, cwd: found.cwd, command: found.command },
    });
  }

  /**
   * T3: the pipe closed under a live pane (its reader died, or could not write to a full disk).
   * What it printed since is restored from its history after a gap entry (output may be missing
   * between the pipe closing and the restored lines), then the pipe is re-attached after a second
   * one (what the pane prints meanwhile may be missing too).
   */
  private async reattach(capture: SpoolCapture, pane: PaneState): Promise<void> {
    const record = capture.record;
    capture.drain();
    capture.writeEvent({
      type: 'system',
      content: '[loupe] capture lost: the pipe to the capture helper closed; output from here to the lines restored from the pane history may be missing',
      metadata: { event: 'capture_lost', level: 'warn', gap: 'the pipe to the capture helper closed', pane_id: pane.paneId },
    });
    // Backfill first, then re-attach at once: what the pane prints in between may be missing,
    // which the gap entry says; the other order would duplicate it instead.
    const restored = await backfillLines(this.tmux, pane.paneId, record.logFile);
    fs.rmSync(eofMarkerPath(spoolPath(this.dir, record.captureId)), { force: true });
    let attached = false;
    try {
      attached = await attachPipe(this.tmux, pane.paneId);
    } catch (err) {
      this.log(`re-attach of ${pane.paneId} failed: ${(err as Error).message}`);
    }
    const classify = this.settingsFor(record.root).newClassifier();
    for (const line of restored) {
      const c = classify(line);
      capture.writeEvent({ type: c.type, content: line, metadata: { ...c.metadata, backfill: true } });
    }
    const metadata: EntryMetadata = {
      event: attached ? 'capture_reattached' : 'capture_lost',
      level: 'warn',
      gap: 'pipe-pane reader died; output was restored from the pane history (capture-pane) and may be incomplete',
      restored_lines: restored.length,
      pane_id: pane.paneId,
    };
    capture.writeEvent({
      type: 'system',
      content: attached
        ? `[loupe] capture re-attached; ${restored.length} lines restored from the pane history, output may be missing here`
        : `[loupe] capture could not be re-attached; ${restored.length} lines restored from the pane history`,
      metadata,
    });
  }

  /**
   * Closes a capture: waits until the spool is complete, writes the rest and the `terminated`
   * entry, closes the dead pane and removes the spool.
   */
  private async finish(
    id: string,
    capture: PaneCapture,
    exitStatus: number | null,
    reason: string,
    how: 'exited' | 'closed' | 'detached' | 'server',
  ): Promise<void> {
    this.ending.add(id);
    try {
      if (capture instanceof SpoolCapture) {
        if (how === 'exited') {
          await waitForQuietSpool(capture);
          // tmux marks a pane dead when its pty closes, which can be well before it reaps the
          // command (seen under load): keep asking for a while.
          if (exitStatus === null) exitStatus = await this.waitForDeadPaneStatus(capture.record.paneId);
        }
        else await waitForEof(spoolPath(this.dir, id));
        capture.drain();
        // A pane that vanished may have gone down with its server (kill-server closes panes first).
        if (how === 'closed' && (await this.serverGone())) reason = SERVER_GONE;
      } else {
        await capture.finalPoll(how === 'exited');
      }
      const record = capture.record;
      // A run that lost output never ends as if it were complete (RELIABILITY D10).
      const { gaps, lostEntries } = capture.losses;
      const incomplete =
        gaps === 0
          ? ''
          : `; output is incomplete: ${gaps === 1 ? '1 gap' : `${gaps} gaps`}${lostEntries > 0 ? `, ${lostEntries} entries lost` : ''} (see the gap entries)`;
      const level = exitStatus !== null && exitStatus !== 0 ? 'error' : exitStatus === 0 && gaps === 0 ? 'info' : 'warn';
      capture.writeEvent({
        type: 'system',
        content:
          how === 'detached'
            ? `[loupe] ${reason}${incomplete}`
            : `[loupe] terminated: ${reason}${exitStatus === null ? ' (exit status unknown)' : ` with status ${exitStatus}`}${incomplete}`,
        metadata: {
          event: how === 'detached' ? 'detached' : 'terminated',
          exit_status: exitStatus,
          level,
          reason,
          complete: gaps === 0,
          ...(gaps > 0 ? { gaps, lost_entries: lostEntries } : {}),
        },
      });
      capture.dispose();
      this.captures.delete(id);
      this.agentLooks.delete(id);
      if (how === 'exited' && record.killDeadPane) {
        await this.tmux.run(['kill-pane', '-t', record.paneId]).catch(() => {});
        // Closing the pane ends the helper, which then touches its marker: remove the files after that.
        if (record.method === 'pipe-pane') await waitForEof(spoolPath(this.dir, id));
      }
      removeCapture(this.dir, id);
    } catch (err) {
      this.log(`closing capture ${id} failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      this.ending.delete(id);
    }
  }

  private async serverGone(): Promise<boolean> {
    try {
      await this.tmux.run(['list-sessions', '-F', '#{session_id}']);
      return false;
    } catch (err) {
      return err instanceof TmuxError && err.noServer;
    }
  }

  private async waitForDeadPaneStatus(paneId: string): Promise<number | null> {
    const deadline = Date.now() + EXIT_STATUS_WAIT_MS;
    for (;;) {
      const status = await this.deadPaneStatus(paneId);
      if (status !== null || Date.now() > deadline) return status;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async deadPaneStatus(paneId: string): Promise<number | null> {
    try {
      const [recorded, status, signal] = (await this.tmux.display(paneId, EXIT_FORMAT)).split('\t');
      return exitStatusOf(recorded, status, signal);
    } catch {
      return null;
    }
  }

  /** Stops capturing without writing anything (captures continue into their spools). */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dirWatcher?.close();
    if (this.ticking !== null) await this.ticking.catch(() => {});
    for (const c of this.captures.values()) c.dispose();
    this.captures.clear();
    await this.lock?.release();
    this.lock = null;
  }
}

/**
 * A shell-style exit status: the one the launch script recorded, else tmux's status, or 128 + the
 * signal that killed the command; null when unknown.
 */
function exitStatusOf(recorded: string | undefined, status: string | undefined, signal: string | undefined): number | null {
  if (recorded !== undefined && /^\d+$/.test(recorded)) return Number(recorded);
  if (status !== undefined && status !== '') return Number(status);
  if (signal !== undefined && signal !== '') return 128 + Number(signal);
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How often a draining capture checks its spool. */
const DRAIN_CHECK_MS = 50;

/** Waits until the spool has not grown for DRAIN_QUIET_MS (tmux has handed over the pane's last bytes). */
async function waitForQuietSpool(capture: SpoolCapture): Promise<void> {
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  let size = capture.spoolSize();
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(DRAIN_CHECK_MS);
    capture.pump();
    const now = capture.spoolSize();
    if (now !== size) {
      size = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= DRAIN_QUIET_MS) return;
  }
}

/** Waits (briefly) for the helper's end-of-pipe marker. */
async function waitForEof(spool: string): Promise<void> {
  const deadline = Date.now() + EOF_WAIT_MS;
  while (Date.now() < deadline && !fs.existsSync(eofMarkerPath(spool)) && fs.existsSync(spool)) await sleep(DRAIN_CHECK_MS);
}
