/**
 * Exporting a run, or a slice of one, or every agent of a task (SPEC §8, issue 6).
 *
 * For each agent the exporter reads the whole log in order (rotated files first), redacts it
 * (on by default: a secret split across a slice boundary is still seen whole), keeps what the
 * slice selects and hands it to the format. Output streams through an optional gzip to the
 * destination, with backpressure, so a 1 GB run exports in flat memory (except `replay-html`,
 * which holds the compressed run until it writes the page).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Writable } from 'node:stream';
import zlib from 'node:zlib';
import type { LogEntry } from '../../../shared/entry.js';
import { rotatedFiles, type AgentLog } from '../log/paths.js';
import type { CorruptLine } from '../log/reader.js';
import { secretDetectors } from '../redact/detectors.js';
import { RunRedactor, type RedactionCounts } from '../redact/redactor.js';
import { castFormatter } from './castFormat.js';
import type { ExportContext, ExportFormat, OutputSink, RunFormatter } from './formatter.js';
import { htmlFormatter } from './htmlFormat.js';
import { jsonlFormatter } from './jsonlFormat.js';
import { replayHtmlFormatter } from './replayHtmlFormat.js';
import { readRunEntries } from './runEntries.js';
import { inSlice, rangePosition, type ExportSlice } from './slice.js';
import { ansiFormatter, textFormatter } from './textFormats.js';

/** Formatted text is collected into writes of about this size: fewer, larger writes. */
const WRITE_CHUNK_BYTES = 256 * 1024;

/** An export the user asked for that cannot be made; the message says what to do instead. */
export class ExportError extends Error {
  override name = 'ExportError';
}

export interface ExportOptions {
  /** The agents to export: one, or every agent of a task. */
  agents: readonly AgentLog[];
  format: ExportFormat;
  /** Shown in the file (HTML title, cast title); defaults to the agent or task id. */
  title?: string;
  slice?: ExportSlice;
  /** Redact secrets (default true). */
  redact?: boolean;
  /** Extra secret patterns (RE2 syntax), from `redact.patterns` in loupe.config.json. */
  redactPatterns?: readonly string[];
  /** Gzip the output. */
  gzip?: boolean;
  /** Told about each corrupt line skipped. */
  onCorrupt?: (corrupt: CorruptLine) => void;
  /** Told how far the export is, after each batch of entries read. */
  onProgress?: (progress: ExportProgress) => void;
}

/** How far an export is: JSONL bytes read so far, out of the size of the logs being read. */
export interface ExportProgress {
  bytesRead: number;
  /** The size of every log file of the agents; rotated `.gz` files count at their decompressed
   * size once read, so this can grow while exporting. */
  totalBytes: number;
}

export interface ExportSummary {
  /** Entries the slice selected, over all agents. */
  entries: number;
  agents: number;
  /** Bytes written (after gzip). */
  bytes: number;
  /** Redactions by kind; null when redaction was off. */
  redactions: RedactionCounts | null;
}

/** Streams the export to `output` and ends it. */
export async function exportRun(options: ExportOptions, output: Writable): Promise<ExportSummary> {
  if (options.agents.length === 0) throw new ExportError('nothing to export: no agent logs were found');
  if (options.format === 'cast' && options.agents.length > 1) {
    throw new ExportError(
      `a .cast file holds one terminal, and this task has ${options.agents.length} agents: ` +
        'export one agent (loupe export AGENT_ID --format cast), or the task as replay-html or jsonl',
    );
  }
  const redact = options.redact ?? true;
  // Compile user patterns before writing anything, so a bad pattern fails cleanly.
  const detectors = redact ? secretDetectors(options.redactPatterns ?? []) : null;
  const slice = options.slice ?? {};
  const context: ExportContext = {
    title: options.title ?? defaultTitle(options.agents),
    agents: options.agents.map((a) => ({ agentId: a.agentId, taskId: a.taskId, root: a.root })),
    lineFilter: slice.filter,
  };

  let bytes = 0;
  const counter = new PassThrough();
  counter.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const head: Writable = options.gzip === true ? zlib.createGzip() : counter;
  const done = head === counter ? pipeline(counter, output) : pipeline(head as zlib.Gzip, counter, output);
  // Awaited at the end; until then a failure (EPIPE, ENOSPC) surfaces through the sink's writes.
  done.catch(() => {});

  const sink = new BufferedSink(head);
  const formatter = createFormatter(options.format, sink, context);
  const redactions: RedactionCounts = {};
  let entries = 0;
  let bytesRead = 0;
  let totalBytes = options.agents.reduce((sum, a) => sum + logSize(a.file), 0);

  try {
    for (const agent of options.agents) {
      formatter.startAgent({ agentId: agent.agentId, taskId: agent.taskId, root: agent.root });
      const redactor = detectors === null ? null : new RunRedactor(detectors);
      let finished = false;
      const handle = (entry: LogEntry, storedLine?: string) => {
        const position = rangePosition(entry, slice);
        if (position === 'after') return;
        const size = terminalSize(entry);
        if (size !== null) formatter.resize(size.cols, size.rows, entry);
        if (position === 'inside' && (formatter.readsLines === true || inSlice(entry, slice))) {
          entries++;
          formatter.entry(entry, storedLine);
        }
      };
      for await (const batch of readRunEntries(agent.file, options.onCorrupt)) {
        for (const { entry, line, length } of batch) {
          bytesRead += length + 1;
          if (redactor === null) handle(entry, line);
          // An entry that comes out of redaction as the same object is unchanged: its stored line
          // can be copied. (Entries held back with a partial line are re-serialized instead.)
          else for (const e of redactor.push(entry)) handle(e, e === entry ? line : undefined);
          // Past the slice, and no held-back entry that a later one could change: stop reading.
          if (rangePosition(entry, slice) === 'after' && (redactor === null || redactor.holding === 0)) {
            finished = true;
            break;
          }
        }
        totalBytes = Math.max(totalBytes, bytesRead);
        options.onProgress?.({ bytesRead, totalBytes });
        await formatter.drain?.();
        await sink.drain();
        if (finished) break;
      }
      if (redactor !== null) {
        for (const e of redactor.end()) handle(e);
        for (const [kind, n] of Object.entries(redactor.counts)) redactions[kind] = (redactions[kind] ?? 0) + n;
      }
      formatter.endAgent();
    }
    await formatter.finish(redact ? redactions : null);
    sink.end();
  } catch (err) {
    head.destroy(err as Error);
    await done.catch(() => {});
    throw err;
  }
  await done;
  return { entries, agents: options.agents.length, bytes, redactions: redact ? redactions : null };
}

/**
 * What an export with these options would hold (entries, redactions by kind), without writing
 * anything: for a preview before saving. `bytes` is the size as JSONL.
 */
export async function previewExport(options: Omit<ExportOptions, 'format' | 'gzip'>): Promise<ExportSummary> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  return exportRun({ ...options, format: 'jsonl', gzip: false }, discard);
}

/**
 * Exports to a file: written next to it under a temporary name and renamed when complete, so a
 * failed export never leaves a half file behind.
 */
export async function exportRunToFile(options: ExportOptions, file: string): Promise<ExportSummary> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let stream: fs.WriteStream;
  try {
    stream = fs.createWriteStream(tmp, { flags: 'wx' });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  } catch (err) {
    throw new ExportError(`cannot write ${file}: ${describeFsError(err as NodeJS.ErrnoException)}`);
  }
  try {
    const summary = await exportRun(options, stream);
    fs.renameSync(tmp, file);
    return summary;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.syscall !== undefined) {
      throw new ExportError(`cannot write ${file}: ${describeFsError(e)}`);
    }
    throw err;
  }
}

function describeFsError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'its folder does not exist; create it or choose another -o path';
    case 'ENOSPC':
      return 'the disk is full; free some space or choose another -o path';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `permission denied (${err.code}); choose another -o path`;
    case 'EISDIR':
      return 'it is a folder; give a file name';
    default:
      return err.message;
  }
}

function createFormatter(format: ExportFormat, sink: OutputSink, context: ExportContext): RunFormatter {
  switch (format) {
    case 'jsonl':
      return jsonlFormatter(sink);
    case 'text':
      return textFormatter(sink, context);
    case 'ansi':
      return ansiFormatter(sink, context);
    case 'html':
      return htmlFormatter(sink, context);
    case 'cast':
      return castFormatter(sink, context);
    case 'replay-html':
      return replayHtmlFormatter(sink, context);
  }
}

function defaultTitle(agents: readonly AgentLog[]): string {
  if (agents.length === 1) return `${agents[0].agentId} (${agents[0].taskId})`;
  return `${agents[0].taskId} (${agents.length} agents)`;
}

/** The bytes of an agent's log files: rotated ones (at their size on disk) and the live one. */
function logSize(file: string): number {
  let total = 0;
  for (const part of [...rotatedFiles(file), file]) {
    try {
      total += fs.statSync(part).size;
    } catch {
      // Rotated away or deleted since it was listed: the reader reports what it cannot read.
    }
  }
  return total;
}

/** The terminal size an entry records (start and resize entries), or null. */
function terminalSize(entry: LogEntry): { cols: number; rows: number } | null {
  const cols = entry.metadata?.cols;
  const rows = entry.metadata?.rows;
  if (typeof cols !== 'number' || typeof rows !== 'number') return null;
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) return null;
  return { cols, rows };
}

/** Collects small writes into large ones and lets the exporter wait for the stream to drain. */
class BufferedSink implements OutputSink {
  private parts: (string | Uint8Array)[] = [];
  private size = 0;
  private blocked = false;

  constructor(private readonly stream: Writable) {
    stream.on('drain', () => (this.blocked = false));
  }

  write(chunk: string | Uint8Array): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= WRITE_CHUNK_BYTES) this.flush();
  }

  /** Waits until the stream has room again. */
  async drain(): Promise<void> {
    this.flush();
    if (!this.blocked) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        this.stream.off('drain', onDrain);
        reject(err);
      };
      this.stream.once('drain', onDrain).once('error', onError);
    });
  }

  end(): void {
    this.flush();
    this.stream.end();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const data = Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(data)) this.blocked = true;
  }
}
