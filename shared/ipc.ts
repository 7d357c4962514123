/**
 * The typed contract between the UI and the backend (STYLE.md "One contract, typed end to end").
 *
 * Three users: electron/main registers every invoke channel with sender checks, the preload
 * exposes exactly these channels as `window.loupe`, and `loupe serve` implements the same map
 * over a WebSocket. Every type here is plain JSON, because it crosses a WebSocket.
 *
 * Live streaming, in short:
 *   1. `agent:tail` (or `agent:entries`) for what is already there;
 *   2. `live:subscribe` from the next sequence;
 *   3. `live:entries` pushes arrive, at most one per animation frame per client, each holding
 *      the new entries of every subscription that has some;
 *   4. after rendering a batch, call `live:ack` with its last sequence. The backend stops reading
 *      for a subscription with more than `LIVE_ACK_WINDOW_BYTES` unacknowledged and resumes from
 *      the log file when acks arrive, so a slow client never loses entries, never slows capture,
 *      and never makes the backend buffer without bound.
 */
import { z } from 'zod';
import type { TokenCounts } from './cost.js';
import {
  AGENT_ID_PATTERN,
  ENTRY_TYPES,
  LEVELS,
  SEARCH_SOURCES,
  SOCKET_NAME_PATTERN,
  TASK_ID_PATTERN,
  type EntryType,
  type Level,
  type LogEntry,
  type SearchSource,
} from './entry.js';

// ---------------------------------------------------------------------------
// Payload types

/** One agent's log, named the way the sidebar shows it. `root` is one of the open roots. */
export interface AgentRef {
  root: string;
  taskId: string;
  agentId: string;
}

export type AgentState = 'live' | 'ended' | 'error';

/** Whether an agent needs the user now (SPEC §13). */
export type AttentionState = 'working' | 'waiting' | 'idle' | 'ended';

export interface Attention {
  state: AttentionState;
  /** ISO 8601: when the agent entered this state. */
  since: string;
  /** Which signal decided it, in words. */
  reason: string;
  /** For `waiting`: the question as the user would read it (a prompt line, or a dialog's lines). */
  prompt: string | null;
}

export interface WorkspaceAgent extends AgentRef {
  state: AgentState;
  /** Entries in the log (the last sequence). */
  entries: number;
  /** ISO 8601 timestamp of the last entry, or null for an empty log. */
  lastActivity: string | null;
  /** The recorded terminal size, from the last start or resize entry. */
  cols: number | null;
  rows: number | null;
  exitStatus: number | null;
  /** The tmux pane being captured, while live, and its tmux `-L` socket. */
  paneId: string | null;
  socket: string | null;
  attention: Attention;
}

export interface WorkspaceTask {
  root: string;
  taskId: string;
  agents: WorkspaceAgent[];
}

export interface WorkspaceRoot {
  /**
   * The root's id, which requests name it by: its absolute path on this machine; or, when the
   * backend reads a PostgreSQL store (SPEC §16), `machine:path`, unique across machines (two
   * machines may ship the same folder, even the same task and agent ids).
   */
  root: string;
  /** From a store: the machine that shipped this root, and the folder's path on it. */
  machine?: string;
  path?: string;
  tasks: WorkspaceTask[];
}

/** A tmux pane. Uncaptured panes get an "Attach" action in the sidebar. */
export interface TmuxPane {
  /** The tmux `-L` socket name, or null for the default server. */
  socket: string | null;
  /** `%12`: what `capture:attach` takes as its target. */
  paneId: string;
  session: string;
  windowIndex: number;
  paneIndex: number;
  command: string;
  cols: number;
  rows: number;
  captured: boolean;
  /** The agent this pane is captured into, when captured. */
  agent: AgentRef | null;
}

export interface Workspace {
  roots: WorkspaceRoot[];
  panes: TmuxPane[];
}

export type TailFormat = 'text' | 'ansi' | 'jsonl' | 'json';

export interface EntryFilter {
  types?: EntryType[];
  /** Keep entries at this level or more severe (`warn` keeps warn, error and fatal), like `loupe tail --level`. */
  minLevel?: Level;
  /** A regular expression matched against the ANSI-stripped content (RE2 syntax, linear time). */
  grep?: string;
  ignoreCase?: boolean;
}

export interface TailResult {
  /**
   * The last matching entries, oldest first. For `text`, the screen lines (SPEC §12) in the
   * shape of entries: `sequence` is the entry after which the line showed, `content` its text,
   * `metadata.level` its level and `metadata.first_sequence` the first entry that wrote into it.
   */
  entries: LogEntry[];
  /** The same entries rendered in the requested format. */
  text: string;
  /**
   * True when older matching entries were left out to keep the reply under
   * `MAX_TAIL_REPLY_BYTES`; read further back with `agent:entries`.
   */
  truncated: boolean;
}

export interface EntriesResult {
  entries: LogEntry[];
  /** The sequence to ask for next. */
  nextSequence: number;
  /** True when the read reached the end of the log. */
  atEnd: boolean;
}

export interface SearchQuery {
  /** Substring (or regex when `regex` is true); empty or absent matches every entry. */
  text?: string;
  regex?: boolean;
  /** For regexes; substring search is always case-insensitive. */
  ignoreCase?: boolean;
  types?: EntryType[];
  levels?: Level[];
  agentId?: string;
  taskId?: string;
  /** Only terminal runs, or only agent transcripts; absent: both. */
  source?: SearchSource;
  /** ISO 8601, a date, or a duration before now (`15m`, `2h`, `3d`); inclusive. */
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
  sort?: 'asc' | 'desc';
}

export interface SearchHit extends AgentRef {
  /** From a store: the machine the agent ran on (`root` is then `machine:path`). */
  machine?: string;
  sequence: number;
  timestamp: string;
  type: EntryType;
  level: Level;
  /** ANSI-stripped content of the entry. */
  text: string;
  /** [start, end) character ranges of the matches in `text`. */
  matches: [number, number][];
}

export interface HistogramBucket {
  /** ISO 8601 start of the bucket. */
  start: string;
  count: number;
}

export interface SearchResult {
  total: number;
  hits: SearchHit[];
  byType: Partial<Record<EntryType, number>>;
  byLevel: Partial<Record<Level, number>>;
  histogram: { bucketMs: number; buckets: HistogramBucket[] };
}

export interface RunSummary extends AgentRef {
  status: AgentState;
  start: string | null;
  end: string | null;
  durationMs: number | null;
  entries: number;
  bytes: number;
  errors: number;
  warnings: number;
  /** Terminal bytes per second over the run. */
  bytesPerSecond: number;
  exitStatus: number | null;
  captureMethod: 'pipe-pane' | 'poll' | null;
  gaps: number;
  /**
   * Tokens an imported agent transcript records (input excludes cached input), null for none; a
   * terminal run linked to transcripts reports theirs.
   */
  tokens: TokenCounts | null;
  /** Their cost in US dollars from Loupe's price table, null when a model has no price. */
  costUsd: number | null;
  /** The runs on the other side of a link: a terminal run's agent transcripts, or a transcript's terminal run. */
  linked: LinkedRun[];
}

/** A run of another agent that a run is linked to (a `claude`/`codex` pane and its transcript). */
export interface LinkedRun {
  taskId: string;
  agentId: string;
  /** 1 for the agent's first run. */
  run: number;
}

/** A tool call of an agent transcript, as a moment of the transcript run. */
export interface LinkedToolCall {
  /** The transcript agent, and the tool call's entry in it. */
  transcript: AgentRef;
  seq: number;
  /** When the agent made the call, µs since the epoch. */
  time: number;
  /** The call as the transcript shows it (`Bash npm test`). */
  text: string;
}

/**
 * What an agent's runs are linked to (a `claude`/`codex` pane and the agent's own transcript),
 * for the replay scrubber: the runs on the other side, and the transcripts' tool calls (for a
 * terminal run, its transcripts'; for a transcript, its own), oldest first.
 */
export interface RunLinks {
  /** True for an agent transcript (its tool calls are its own), false for a terminal run. */
  isTranscript: boolean;
  linked: (AgentRef & { run: number; start: number | null; end: number | null })[];
  toolCalls: LinkedToolCall[];
  /** True when there were more tool calls than one reply holds (MAX_LINKED_TOOL_CALLS). */
  truncated: boolean;
}

/** Tool calls one `index:links` reply holds at most: a scrubber cannot show more apart. */
export const MAX_LINKED_TOOL_CALLS = 2000;

export interface StatsQuery {
  agentId?: string;
  taskId?: string;
}

export interface AttachRequest {
  /** A tmux target: `%12`, `session:1.0`, ... */
  target: string;
  socket?: string;
  root?: string;
  taskId?: string;
  /** The agent id to capture into (defaults to one derived from the pane). */
  name?: string;
}

export interface DetachRequest {
  target: string;
  socket?: string;
}

/** An answer typed into a live agent's pane (SPEC §13). */
export interface ReplyRequest extends AgentRef {
  /** Typed literally; may be empty when only Enter is sent. */
  text: string;
  /** Press Enter after the text. */
  enter: boolean;
}

export interface RunAgentRequest {
  /** The command line, run by the shell in a new detached tmux session. */
  command: string;
  root?: string;
  /** An existing task, or absent for a new one. */
  taskId?: string;
  /** The agent id (sanitised from the command when absent). */
  name?: string;
  socket?: string;
  cols?: number;
  rows?: number;
}

export interface CaptureStarted extends AgentRef {
  paneId: string;
  file: string;
}

/** Electron IPC (the desktop app), the WebSocket (`loupe serve`), or MCP (`loupe mcp`, read-only). */
export type Transport = 'ipc' | 'websocket' | 'mcp';

export interface AppInfo {
  version: string;
  transport: Transport;
  /** True when this client may call none of the control channels. */
  readOnly: boolean;
  /** The control channels this client may call (the UI hides the others' actions). */
  allowedControl: ControlChannel[];
  roots: string[];
  sockets: string[];
  /**
   * When the backend reads a PostgreSQL store instead of local roots (`loupe serve --store`):
   * its URL, with the password masked. Roots are then `machine:path` ids.
   */
  store?: string;
}

export interface SubscribeResult {
  subscriptionId: string;
  /** The last sequence in the log when the subscription started (0 for an empty log). */
  lastSequence: number;
}

/** The new entries of one subscription. */
export interface LiveBatch {
  subscriptionId: string;
  agent: AgentRef;
  entries: LogEntry[];
}

/** An agent exited or printed an error: the UI shows a notification or a toast. */
export interface AgentNotice {
  agent: AgentRef;
  /** exited; error: an error line showed; waiting: it has been asking the user something for 2 s (the message says what). */
  kind: 'exited' | 'error' | 'waiting';
  exitStatus: number | null;
  message: string;
}

/**
 * Where replay reads next in a run: one of the run's log files (base name) and a byte offset.
 * Opaque to the UI: it is handed back unchanged to `replay:frames`.
 */
export interface ReplayCursor {
  file: string;
  offset: number;
}

/** One bucket of a run's activity histogram. */
export interface ReplayTimelineBucket {
  /** Start of the bucket, µs since the epoch. */
  start: number;
  entries: number;
  /** Terminal bytes written in the bucket. */
  bytes: number;
  errors: number;
  warnings: number;
}

/**
 * A run's timeline for the replay scrubber: activity over time, error and warning markers,
 * resizes and gaps. Times are µs since the epoch (plain numbers: 2^53 µs is ~285 years).
 */
export interface ReplayTimeline {
  agentId: string;
  taskId: string;
  /** First and last entry times (null for an empty run). */
  start: number | null;
  end: number | null;
  firstSeq: number;
  lastSeq: number;
  entries: number;
  bytes: number;
  bucketMicros: number;
  buckets: ReplayTimelineBucket[];
  /** Error, fatal and warning entries, by sequence. */
  markers: { seq: number; time: number; level: Level; text: string }[];
  resizes: { seq: number; time: number; cols: number; rows: number }[];
  gaps: { seq: number; time: number; reason: string }[];
  /** From the `terminated` entry; absent while the run has none. */
  exitStatus?: number | null;
}

/**
 * The terminal at a moment of a run, as one serialized state (shared/terminal-state.ts): the
 * backend restores its nearest keyframe and plays the delta after it headlessly, so the reply is
 * one screen's worth of escape sequences however long the run is.
 */
export interface ReplayScreen {
  /** The last entry applied (0: before the first), and its time (null before the first). */
  seq: number;
  time: number | null;
  cols: number;
  rows: number;
  /** Write into a reset terminal of `cols` × `rows` to get the screen. */
  state: string;
  /** Where the output after `seq` starts (for `replay:frames`). */
  next: ReplayCursor;
  /** The keyframe the seek started from (its sequence), or null when it started at the beginning. */
  keyframeSeq: number | null;
  /** Terminal bytes replayed after that keyframe. */
  bytesReplayed: number;
}

/** One step of playback: an entry's terminal output, or a resize (then `text` is ''). */
export interface ReplayFrame {
  seq: number;
  /** µs since the epoch. */
  time: number;
  text: string;
  cols?: number;
  rows?: number;
}

export interface ReplayFrames {
  frames: ReplayFrame[];
  /** Where to continue reading. */
  next: ReplayCursor;
  /** True when the read reached the end of the log (a live run may grow later). */
  atEnd: boolean;
}

/** The export formats (SPEC §8); the same names as `loupe export --format`. */
export const EXPORT_FORMAT_NAMES = ['jsonl', 'text', 'ansi', 'html', 'cast', 'replay-html'] as const;
export type ExportFormatName = (typeof EXPORT_FORMAT_NAMES)[number];

/** Which part of a run an export holds, with the same meaning as the `loupe export` options. */
export interface ExportSliceRequest {
  /** ISO 8601, a date, or a duration before now (`15m`, `2h`); inclusive. */
  since?: string;
  until?: string;
  fromSeq?: number;
  toSeq?: number;
  types?: EntryType[];
  minLevel?: Level;
  /** RE2 syntax, matched against the ANSI-stripped text. */
  grep?: string;
  ignoreCase?: boolean;
}

/** What to export: one agent's run, or every agent of a task when `agentId` is absent. */
export interface ExportRequest {
  root: string;
  taskId: string;
  agentId?: string;
  slice?: ExportSliceRequest;
  /** Redact secrets; on unless this is `false`. */
  redact?: boolean;
}

/** An export to a file: the request plus how to write it. */
export interface ExportFileRequest extends ExportRequest {
  format: ExportFormatName;
  gzip?: boolean;
  /** Chosen by the client; `export:progress` pushes carry it. */
  progressId?: string;
}

/** What an export holds (or would hold): entries, agents, bytes and redactions by kind (null: redaction off). */
export interface ExportSummaryResult {
  entries: number;
  agents: number;
  /** For a preview, the size as JSONL; for a saved file, the bytes written. */
  bytes: number;
  redactions: Record<string, number> | null;
}

/** A saved export: where it went and what it holds. */
export interface ExportSaved extends ExportSummaryResult {
  file: string;
}

/** The `loupe serve` path that downloads an export: `GET /export?request=<ExportFileRequest as JSON>`. */
export const EXPORT_DOWNLOAD_PATH = '/export';

/**
 * Calls one WebSocket connection may have running at once; the server refuses more at once
 * (BusyError), so a flood of large calls cannot pile up work and memory. The UI needs a few (a
 * tail, a search, a seek); its bridge queues the rest until a reply frees a slot.
 */
export const MAX_CALLS_IN_FLIGHT = 4;

// ---------------------------------------------------------------------------
// The maps

/** Invoke channels: channel → (args) => result. Every call takes exactly one argument object. */
export interface Invoke {
  'app:info': (args: Record<string, never>) => AppInfo;
  'workspace:list': (args: Record<string, never>) => Workspace;
  'agent:tail': (args: AgentRef & EntryFilter & { lines: number; format?: TailFormat }) => TailResult;
  'agent:entries': (args: AgentRef & { fromSequence: number; limit?: number }) => EntriesResult;
  'live:subscribe': (args: AgentRef & { fromSequence: number }) => SubscribeResult;
  'live:unsubscribe': (args: { subscriptionId: string }) => null;
  'live:ack': (args: { subscriptionId: string; sequence: number }) => null;
  'index:search': (args: SearchQuery) => SearchResult;
  'index:stats': (args: StatsQuery) => RunSummary[];
  /** The runs an agent is linked to and their tool calls (terminal run ↔ agent transcript). */
  'index:links': (args: AgentRef) => RunLinks;
  'capture:attach': (args: AttachRequest) => CaptureStarted;
  'capture:detach': (args: DetachRequest) => null;
  'agent:run': (args: RunAgentRequest) => CaptureStarted;
  /** Types an answer into a live agent's pane; recorded in its log as a `control` entry (user input). */
  'agent:reply': (args: ReplyRequest) => null;
  /** A run's timeline (cached per log until it grows). */
  'replay:timeline': (args: AgentRef & { buckets?: number }) => ReplayTimeline;
  /** The screen after entry `seq`, or at `time` (µs), or at the end of the run when neither is given. */
  'replay:seek': (args: AgentRef & { seq?: number; time?: number }) => ReplayScreen;
  /** Playback frames from a cursor, at most `maxBytes` of output or `limit` frames per call. */
  'replay:frames': (args: AgentRef & { from: ReplayCursor; maxBytes?: number; limit?: number }) => ReplayFrames;
  /** What an export would hold, redactions counted by kind; writes nothing. */
  'export:preview': (args: ExportRequest) => ExportSummaryResult;
  /**
   * Asks where to save (a save-file dialog) and exports there; null when the user cancelled.
   * Only the desktop app has it: the web view downloads from `EXPORT_DOWNLOAD_PATH` instead.
   */
  'export:save': (args: ExportFileRequest) => ExportSaved | null;
}

/** Push channels: channel → payload, backend to UI. */
export interface Push {
  /** At most one per animation frame per client. */
  'live:entries': { batches: LiveBatch[] };
  'agent:notice': AgentNotice;
  /** Roots, tasks, agents or panes changed: call `workspace:list` again. */
  'workspace:changed': Record<string, never>;
  /** Electron opened a `loupe://agent/<id>?seq=N` link (shared/deeplink.ts): show that moment. */
  'app:open-link': { link: string };
  /** How far an `export:save` is (JSONL bytes read of the run's size). */
  'export:progress': { progressId: string; bytesRead: number; totalBytes: number };
}

export type InvokeChannel = keyof Invoke;
export type PushChannel = keyof Push;
export type InvokeArgs<C extends InvokeChannel> = Parameters<Invoke[C]>[0];
export type InvokeResult<C extends InvokeChannel> = ReturnType<Invoke[C]>;

/**
 * Who may call a channel. `read` channels never change anything outside the caller's own
 * subscriptions; `control` channels start or stop captures and agents.
 */
export type Access = 'read' | 'control';

/** The invoke allow-list. Adding a channel to `Invoke` without listing it here fails to compile. */
export const INVOKE_ACCESS = {
  'app:info': 'read',
  'workspace:list': 'read',
  'agent:tail': 'read',
  'agent:entries': 'read',
  'live:subscribe': 'read',
  'live:unsubscribe': 'read',
  'live:ack': 'read',
  'index:search': 'read',
  'index:stats': 'read',
  'index:links': 'read',
  'capture:attach': 'control',
  'capture:detach': 'control',
  'agent:reply': 'control',
  'agent:run': 'control',
  'replay:timeline': 'read',
  'replay:seek': 'read',
  'replay:frames': 'read',
  'export:preview': 'read',
  // Writes a file on this machine: never allowed to the web view (its handler also refuses any
  // client without a save dialog).
  'export:save': 'control',
} as const satisfies Record<InvokeChannel, Access>;

/** The push allow-list. */
export const PUSH_ALLOWED = {
  'live:entries': true,
  'agent:notice': true,
  'workspace:changed': true,
  'app:open-link': true,
  'export:progress': true,
} as const satisfies Record<PushChannel, true>;

export const INVOKE_CHANNELS = Object.keys(INVOKE_ACCESS) as InvokeChannel[];
export const PUSH_CHANNELS = Object.keys(PUSH_ALLOWED) as PushChannel[];
export type ControlChannel = { [C in InvokeChannel]: (typeof INVOKE_ACCESS)[C] extends 'control' ? C : never }[InvokeChannel];
export const CONTROL_CHANNELS = INVOKE_CHANNELS.filter((c) => INVOKE_ACCESS[c] === 'control') as ControlChannel[];

export function isInvokeChannel(value: unknown): value is InvokeChannel {
  return typeof value === 'string' && Object.hasOwn(INVOKE_ACCESS, value);
}

export function isPushChannel(value: unknown): value is PushChannel {
  return typeof value === 'string' && Object.hasOwn(PUSH_ALLOWED, value);
}

/**
 * What the renderer sees as `window.loupe` (preload) and what the WebSocket client implements.
 * `on` returns a function that removes the listener.
 */
export interface LoupeBridge {
  invoke<C extends InvokeChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>>;
  on<C extends PushChannel>(channel: C, listener: (payload: Push[C]) => void): () => void;
}

/** Unacknowledged live bytes per subscription before the backend pauses it (see the file comment). */
export const LIVE_ACK_WINDOW_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------
// The WebSocket wire format (`loupe serve`): JSON text frames.

/** Client → server. `id` is chosen by the client and echoed in the reply. */
export interface WireInvoke {
  kind: 'invoke';
  id: number;
  channel: InvokeChannel;
  args: unknown;
}

/** Server → client: the reply to one invoke. */
export type WireResult =
  | { kind: 'result'; id: number; ok: true; result: unknown }
  | { kind: 'result'; id: number; ok: false; error: WireError };

export interface WireError {
  /** `ForbiddenError` (channel not allowed here), `InvalidArgsError`, or the core error's name. */
  name: string;
  message: string;
}

/** Server → client: a push. */
export interface WirePush {
  kind: 'push';
  channel: PushChannel;
  payload: unknown;
}

/** The WebSocket's path on the `loupe serve` origin. */
export const WEBSOCKET_PATH = '/ws';

// ---------------------------------------------------------------------------
// Argument validation: every invoke's args are checked by `validateInvokeArgs` before a handler runs.

const agentId = z.string().regex(AGENT_ID_PATTERN, 'invalid agent id');
const taskId = z.string().regex(TASK_ID_PATTERN, 'invalid task id');
const socketName = z.string().regex(SOCKET_NAME_PATTERN, 'invalid tmux socket name');
/** Paths are checked against the open roots by the handlers; here only their shape. */
const rootPath = z.string().min(1).max(4096).refine((s) => !s.includes('\0'), 'NUL byte in path');
const sequence = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const isoTime = z.string().max(64);
const subscriptionId = z.string().min(1).max(64);
/** tmux targets: pane ids, `session:window.pane`; no shell or format metacharacters reach tmux. */
const tmuxTarget = z.string().min(1).max(256).regex(/^[A-Za-z0-9%@$:._ -]+$/, 'invalid tmux target');
const empty = z.strictObject({});
/** A run's file is named by its base name only (the backend looks it up among the run's files). */
const replayCursor = z.strictObject({
  file: z.string().min(1).max(512).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'invalid log file name'),
  offset: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const agentRef = { root: rootPath, taskId, agentId };
const filter = {
  types: z.array(z.enum(ENTRY_TYPES)).max(ENTRY_TYPES.length).optional(),
  minLevel: z.enum(LEVELS).optional(),
  grep: z.string().max(4096).optional(),
  ignoreCase: z.boolean().optional(),
};

/** Upper bounds that keep one call's reply a sensible size. */
export const MAX_TAIL_LINES = 100_000;
/** A tail reply holds at most about this much log (the newest lines that fit), however many lines were asked for. */
export const MAX_TAIL_REPLY_BYTES = 8 * 1024 * 1024;
export const MAX_ENTRIES_PER_READ = 10_000;
export const MAX_SEARCH_LIMIT = 10_000;
/** Histogram buckets a timeline may ask for (one per pixel column of a wide scrubber). */
export const MAX_TIMELINE_BUCKETS = 4000;
/** Output one `replay:frames` reply may carry. */
export const MAX_REPLAY_FRAME_BYTES = 4 * 1024 * 1024;
export const MAX_REPLAY_FRAMES = 10_000;

const exportRequest = {
  root: rootPath,
  taskId,
  agentId: agentId.optional(),
  slice: z
    .strictObject({
      since: isoTime.optional(),
      until: isoTime.optional(),
      fromSeq: sequence.optional(),
      toSeq: sequence.optional(),
      types: filter.types,
      minLevel: filter.minLevel,
      grep: filter.grep,
      ignoreCase: filter.ignoreCase,
    })
    .optional(),
  redact: z.boolean().optional(),
};
const exportFileRequest = z.strictObject({
  ...exportRequest,
  format: z.enum(EXPORT_FORMAT_NAMES),
  gzip: z.boolean().optional(),
  progressId: z.string().min(1).max(64).optional(),
});

const schemas: { [C in InvokeChannel]: z.ZodType<InvokeArgs<C>> } = {
  'app:info': empty,
  'workspace:list': empty,
  'agent:tail': z.strictObject({
    ...agentRef,
    ...filter,
    lines: z.int().min(0).max(MAX_TAIL_LINES),
    format: z.enum(['text', 'ansi', 'jsonl', 'json']).optional(),
  }),
  'agent:entries': z.strictObject({
    ...agentRef,
    fromSequence: sequence,
    limit: z.int().min(1).max(MAX_ENTRIES_PER_READ).optional(),
  }),
  'live:subscribe': z.strictObject({ ...agentRef, fromSequence: sequence }),
  'live:unsubscribe': z.strictObject({ subscriptionId }),
  'live:ack': z.strictObject({ subscriptionId, sequence }),
  'index:search': z.strictObject({
    text: z.string().max(4096).optional(),
    regex: z.boolean().optional(),
    ignoreCase: z.boolean().optional(),
    types: filter.types,
    levels: z.array(z.enum(LEVELS)).max(LEVELS.length).optional(),
    agentId: agentId.optional(),
    taskId: taskId.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.int().min(0).max(MAX_SEARCH_LIMIT).optional(),
    offset: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    sort: z.enum(['asc', 'desc']).optional(),
    source: z.enum(SEARCH_SOURCES).optional(),
  }),
  'index:stats': z.strictObject({ agentId: agentId.optional(), taskId: taskId.optional() }),
  'index:links': z.strictObject(agentRef),
  'capture:attach': z.strictObject({
    target: tmuxTarget,
    socket: socketName.optional(),
    root: rootPath.optional(),
    taskId: taskId.optional(),
    name: agentId.optional(),
  }),
  'capture:detach': z.strictObject({ target: tmuxTarget, socket: socketName.optional() }),
  'agent:reply': z
    .strictObject({ ...agentRef, text: z.string().max(4096).regex(/^[^\x00-\x1f\x7f]*$/, 'must be plain text: no control characters (use enter for Enter)'), enter: z.boolean() })
    .refine((r) => r.text !== '' || r.enter, 'send some text, or Enter'),
  'agent:run': z.strictObject({
    command: z.string().min(1).max(16_384),
    root: rootPath.optional(),
    taskId: taskId.optional(),
    name: agentId.optional(),
    socket: socketName.optional(),
    cols: z.int().min(10).max(1000).optional(),
    rows: z.int().min(5).max(500).optional(),
  }),
  'replay:timeline': z.strictObject({ ...agentRef, buckets: z.int().min(1).max(MAX_TIMELINE_BUCKETS).optional() }),
  'replay:seek': z
    .strictObject({ ...agentRef, seq: sequence.optional(), time: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional() })
    .refine((a) => a.seq === undefined || a.time === undefined, 'give seq or time, not both'),
  'replay:frames': z.strictObject({
    ...agentRef,
    from: replayCursor,
    maxBytes: z.int().min(1).max(MAX_REPLAY_FRAME_BYTES).optional(),
    limit: z.int().min(1).max(MAX_REPLAY_FRAMES).optional(),
  }),
  'export:preview': z.strictObject(exportRequest),
  'export:save': exportFileRequest,
};

/** Arguments that do not match a channel's schema. */
export class InvalidArgsError extends Error {
  override name = 'InvalidArgsError';
}

/**
 * Checks an invoke's arguments against its channel's schema and returns them typed.
 * Throws `InvalidArgsError` naming the channel and the first bad field.
 */
export function validateInvokeArgs<C extends InvokeChannel>(channel: C, args: unknown): InvokeArgs<C> {
  const parsed = schemas[channel].safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'arguments';
    throw new InvalidArgsError(`${channel}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Checks an export download's request (the `request` query parameter of `EXPORT_DOWNLOAD_PATH`,
 * parsed from JSON) with the same schema as `export:save`. Throws `InvalidArgsError`.
 */
export function validateExportFileRequest(value: unknown): ExportFileRequest {
  const parsed = exportFileRequest.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'request';
    throw new InvalidArgsError(`export: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
