/**
 * `loupe import` (SPEC §14): a Claude Code transcript, Claude stream-json log, Codex rollout or
 * asciicast file becomes a run of Loupe entries under a root, written with the log writer, and a
 * copy of the source is archived beside it.
 *
 * - One task per source session, `TASK-<session start>-<8 hex>`: the hex is a hash of the format
 *   and session id, so importing the same session again finds its task.
 * - The archive (`<task>/sources/<file name>`) holds the source's complete lines as imported.
 *   A source that grew is continued: the archive is extended, the whole archive is parsed again
 *   (so tool names, message ids and token totals are known across imports) and only the entries
 *   past those already in the log are written. The log itself says how many are written
 *   (its last sequence, after the started entry), so an import killed half way is finished by the
 *   next one without duplicates.
 * - `import.json` in the task folder records the source path, session id and how far it was
 *   imported, for people and for later imports from the default homes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTimestamp, sanitizeAgentId } from '../../../shared/entry.js';
import { lastEntryOf } from '../api/lastEntry.js';
import type { Classifier } from '../capture/classify.js';
import { LogWriter, LogWriteError } from '../log/writer.js';
import { ensureLogsDir, listTasks, newTaskId, streamPath, taskDir, WORKSPACE_DIR } from '../log/paths.js';
import { parseAsciicast } from './asciicast.js';
import { parseClaudeStream } from './claudeStream.js';
import { parseClaudeTranscript } from './claudeTranscript.js';
import { parseCodexRollout } from './codexRollout.js';
import { detectFormat } from './detect.js';
import { asTerminalLine, type CorruptSourceLine, type ParsedSession, type SourceLine, type TranscriptFormat } from './session.js';

/** How much of a file `sessionCwd` reads: the first records name the folder. */
const CWD_PEEK_BYTES = 1024 * 1024;

/** Source lines longer than this are skipped as corrupt: no real record is this large. */
export const MAX_SOURCE_LINE_BYTES = 64 * 1024 * 1024;

const AGENT_PREFIX: Record<TranscriptFormat, string> = { claude: 'claude', 'claude-stream': 'claude-stream', codex: 'codex', asciicast: 'cast' };

/** A file that could not be imported; the message names it and what is wrong. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    message: string,
    /** The file is not a format Loupe imports (a folder's other files are passed over). */
    readonly unrecognized = false,
  ) {
    super(message);
  }
}

export interface ImportedSession {
  agentId: string;
  taskId: string;
  format: TranscriptFormat;
  source: string;
  /** new: a run was created; continued: entries were added; unchanged: nothing new. */
  status: 'new' | 'continued' | 'unchanged';
  /** Entries written by this import. */
  added: number;
  /** Entries of the session in the log now (without the started entry). */
  total: number;
  corrupt: CorruptSourceLine[];
}

/** The per-source record, `<task>/import.json`. */
interface ImportRecord {
  format: TranscriptFormat;
  sessionId: string;
  agentId: string;
  source: string;
  archive: string;
  bytes: number;
  entries: number;
  importedAt: string;
}

/** Where the agents keep their sessions: `~/.claude/projects` and `$CODEX_HOME/sessions` (`~/.codex/sessions`). */
export function defaultSourceHomes(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || os.homedir();
  return [path.join(home, '.claude', 'projects'), path.join(env.CODEX_HOME ?? path.join(home, '.codex'), 'sessions')];
}

/**
 * The folder a session ran in, from the first records of its file (Claude `cwd`, Codex
 * `session_meta.cwd`, stream-json `init.cwd`); null when they do not say, or for a recording.
 */
export function sessionCwd(file: string): string | null {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(CWD_PEEK_BYTES);
      head = head.subarray(0, fs.readSync(fd, head, 0, CWD_PEEK_BYTES, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
  const { lines } = splitLines(head.subarray(0, head.lastIndexOf(0x0a) + 1));
  const detected = detectFormat(lines);
  if (detected === null || !('format' in detected) || detected.format === 'asciicast') return null;
  return parse(detected.format, lines, '', NO_CLASSIFIER, { fallbackMicros: 0 }).cwd;
}

/** Only recordings classify their lines, and sessionCwd never parses one. */
const NO_CLASSIFIER: Classifier = () => ({ type: 'stdout' });

/** Imports one file into `root`. Throws ImportError for a file that is not a known format. */
export function importFile(root: string, file: string, classifier: Classifier): ImportedSession {
  const source = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(source);
  } catch (err) {
    throw new ImportError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Only complete lines: the agent may be writing the last one right now.
  const complete = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
  const lines = splitLines(complete);
  const detected = detectFormat(lines.lines);
  if (detected === null) throw new ImportError(`${file} is not a Claude Code transcript, Claude stream-json log, Codex rollout or asciicast v2/v3 recording`, true);
  if ('unsupported' in detected) throw new ImportError(`${file} is ${detected.unsupported}, which loupe import does not read yet`);
  const format = detected.format;
  const options = { fallbackMicros: Math.round(fs.statSync(source).mtimeMs * 1000) };
  const stem = path.basename(source).replace(/\.(jsonl|cast)$/, '');
  const session = parse(format, lines.lines, stem, classifier, options);
  session.corrupt.unshift(...lines.corrupt);

  const hash = createHash('sha256').update(`${format}:${session.sessionId}`).digest('hex').slice(0, 8);
  const agentId = sanitizeAgentId(`${AGENT_PREFIX[format]}-${session.sessionId}`);
  const existing = listTasks(root).find((t) => t.endsWith(`-${hash}`) && fs.existsSync(streamPath(root, t, agentId)));
  const taskId = existing ?? `${newTaskId(new Date((session.startMicros ?? options.fallbackMicros) / 1000)).slice(0, -8)}${hash}`;
  ensureLogsDir(root, taskId);
  const archive = path.join(taskDir(root, taskId), 'sources', path.basename(source));
  archiveSource(archive, complete, file);

  let failure: LogWriteError | null = null;
  const writer = new LogWriter(streamPath(root, taskId, agentId), { agentId, onError: (e) => (failure ??= e) });
  let added = 0;
  try {
    const before = writer.lastSequence;
    if (before === 0) {
      writer.append({
        type: 'system',
        content: `[loupe] started: ${session.command} (imported from ${source})`,
        timeMicros: session.startMicros ?? session.entries[0]?.timeMicros ?? options.fallbackMicros,
        metadata: {
          event: 'started',
          level: 'info',
          command: session.command,
          imported: format,
          session_id: session.sessionId,
          source_file: source,
          ...(session.cwd === null ? {} : { cwd: session.cwd }),
          ...session.startMetadata,
        },
      });
    }
    const done = Math.max(0, before - 1);
    // A continued session never goes back in time: a source without timestamps (stream-json)
    // places its records anew on each import, and those already written keep their times.
    const last = before > 0 ? lastEntryOf(streamPath(root, taskId, agentId)) : null;
    const floor = last === null ? 0 : parseTimestamp(last.timestamp);
    for (const parsed of session.entries.slice(done)) {
      // A recording's output is kept byte for byte; a transcript's lines end as a terminal's do.
      const entry = format === 'asciicast' ? parsed : asTerminalLine(parsed);
      writer.append(entry.timeMicros < floor ? { ...entry, timeMicros: floor } : entry);
      added++;
    }
    writer.flush();
  } finally {
    writer.closeSync();
  }
  if (writer.lastSequence < session.entries.length + 1) {
    const why = (failure as LogWriteError | null)?.message ?? 'the log has fewer entries than the source';
    throw new ImportError(`could not import all of ${file}: ${why}; import it again once that is fixed`);
  }
  const record: ImportRecord = {
    format,
    sessionId: session.sessionId,
    agentId,
    source,
    archive: path.relative(taskDir(root, taskId), archive),
    bytes: complete.length,
    entries: session.entries.length,
    importedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(taskDir(root, taskId), 'import.json'), JSON.stringify(record, null, 2) + '\n');
  const status = existing === undefined ? 'new' : added > 0 ? 'continued' : 'unchanged';
  return { agentId, taskId, format, source, status, added, total: session.entries.length, corrupt: session.corrupt };
}

function parse(format: TranscriptFormat, lines: SourceLine[], stem: string, classifier: Classifier, options: { fallbackMicros: number }): ParsedSession {
  switch (format) {
    case 'claude':
      return parseClaudeTranscript(lines, stem, options);
    case 'claude-stream':
      return parseClaudeStream(lines, stem, options);
    case 'codex':
      return parseCodexRollout(lines, stem, options);
    case 'asciicast':
      return parseAsciicast(lines, stem, classifier, options);
  }
}

/**
 * Keeps the archive equal to the source's complete lines. The source may only grow: when the
 * archived bytes are not its beginning, it is another file or was rewritten, and importing it
 * would mix two histories, so it is refused.
 */
function archiveSource(archive: string, complete: Buffer, file: string): void {
  let archived: Buffer | null = null;
  try {
    archived = fs.readFileSync(archive);
  } catch {
    // not archived yet
  }
  if (archived !== null) {
    if (archived.length > complete.length || !complete.subarray(0, archived.length).equals(archived)) {
      throw new ImportError(`${file} no longer starts with the copy imported before (${archive}); it was rewritten, so it is not imported again`);
    }
    if (archived.length === complete.length) return;
  }
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  const tmp = `${archive}.tmp`;
  fs.writeFileSync(tmp, complete);
  fs.renameSync(tmp, archive);
}

/** Complete lines, numbered; empty lines are skipped and overlong ones reported. */
function splitLines(bytes: Buffer): { lines: SourceLine[]; corrupt: CorruptSourceLine[] } {
  const lines: SourceLine[] = [];
  const corrupt: CorruptSourceLine[] = [];
  let start = 0;
  let n = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    n++;
    if (end - start > MAX_SOURCE_LINE_BYTES) corrupt.push({ line: n, error: `line longer than ${MAX_SOURCE_LINE_BYTES} bytes` });
    else {
      const text = bytes.toString('utf8', start, end).replace(/\r$/, '');
      if (text.trim() !== '') lines.push({ text, line: n });
    }
    start = end + 1;
  }
  return { lines, corrupt };
}

/** Whether a file in a folder is looked at as a session: `.jsonl` and `.cast` files. */
export function isSourceName(name: string): boolean {
  return /\.(jsonl|cast)$/.test(name);
}

/** Files to import under `target`: the file itself, or a folder's `.jsonl` and `.cast` files, recursively, sorted. */
export function sourceFiles(target: string): string[] {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return [target];
  const found: string[] = [];
  for (const entry of fs.readdirSync(target, { withFileTypes: true, recursive: true })) {
    // Loupe's own logs and archived copies are not sources.
    if (entry.isFile() && isSourceName(entry.name) && !entry.parentPath.split(path.sep).includes(WORKSPACE_DIR)) {
      found.push(path.join(entry.parentPath, entry.name));
    }
  }
  return found.sort();
}
