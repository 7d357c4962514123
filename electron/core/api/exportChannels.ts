/**
 * The app's export (issue 6 item 3): turning a request from the UI into the exporter's options,
 * the preview the dialog shows, and the file name a download or a save dialog suggests.
 * The same request serves `export:preview`, `export:save` (Electron) and the web view's download
 * route, so what the preview counts is what the file holds.
 */
import path from 'node:path';
import type { ExportFileRequest, ExportRequest, ExportSummaryResult } from '../../../shared/ipc.js';
import { loadConfig } from '../capture/config.js';
import { ExportError, previewExport, type ExportOptions } from '../export/exportRun.js';
import { FORMAT_EXTENSIONS } from '../export/formatter.js';
import { findAgentLog, listTaskAgents, type AgentLog } from '../log/paths.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { parseTimeBound } from '../search/timeBound.js';
import { NotFoundError } from './handlers.js';

/** Longest file name offered: well under every file system's 255-byte limit, `.gz` included. */
const MAX_FILE_NAME_CHARS = 180;

/**
 * The agent logs a request names: one agent, or every agent of the task. The root must be one
 * of `roots` (absolute, resolved); ids are checked by the path helpers, so nothing escapes it.
 */
export function exportAgents(roots: readonly string[], request: ExportRequest): AgentLog[] {
  const root = path.resolve(request.root);
  if (!roots.includes(root)) {
    throw new NotFoundError(`${request.root} is not one of the open roots (${roots.join(', ')}); open it with --root`);
  }
  if (request.agentId === undefined) {
    const agents = listTaskAgents(root, request.taskId);
    if (agents.length === 0) throw new NotFoundError(`no agent logs in task ${request.taskId} under ${root}`);
    return agents;
  }
  const log = findAgentLog(root, request.agentId, request.taskId);
  if (log === null) throw new NotFoundError(`no log for agent ${request.agentId} in task ${request.taskId} under ${root}`);
  return [log];
}

/**
 * The exporter's options for a request, as `loupe export` builds them: redaction on unless the
 * request says `redact: false`, with the root's `redact.patterns` from loupe.config.json.
 */
export function exportOptionsFor(
  roots: readonly string[],
  request: ExportFileRequest,
  nowMicros = Date.now() * 1000,
): ExportOptions {
  const agents = exportAgents(roots, request);
  const redact = request.redact !== false;
  const slice = request.slice ?? {};
  return {
    agents,
    format: request.format,
    gzip: request.gzip === true,
    redact,
    redactPatterns: redact ? (loadConfig(agents[0].root).config.redact?.patterns ?? []) : [],
    slice: {
      sinceMicros: slice.since ? parseTimeBound(slice.since, nowMicros) : undefined,
      untilMicros: slice.until ? parseTimeBound(slice.until, nowMicros) : undefined,
      fromSeq: slice.fromSeq,
      toSeq: slice.toSeq,
      filter: {
        types: slice.types && slice.types.length > 0 ? slice.types : undefined,
        minLevel: slice.minLevel,
        regex: slice.grep ? compileUserRegex(slice.grep, { ignoreCase: slice.ignoreCase === true }) : undefined,
      },
    },
  };
}

/**
 * What exporting `request` would hold, without writing anything. A preview reads the whole run, so
 * one that `superseded()` says is no longer wanted (the user changed the slice) stops at its next
 * batch instead of reading on.
 */
export async function exportPreview(
  roots: readonly string[],
  request: ExportRequest,
  superseded: () => boolean = () => false,
): Promise<ExportSummaryResult> {
  const { format: _format, gzip: _gzip, ...options } = exportOptionsFor(roots, { ...request, format: 'jsonl' });
  return previewExport({
    ...options,
    onProgress: () => {
      if (superseded()) throw new ExportError('this preview was replaced by a newer one');
    },
  });
}

/**
 * The file name an export is offered under: `<agent or task>[-<slice>]<ext>[.gz]`, made of
 * `[A-Za-z0-9._-]` only (no path separators, quotes or control characters reach a
 * Content-Disposition header or a save dialog), never starting with a dot, and bounded in length.
 */
export function exportFileName(request: ExportFileRequest): string {
  const subject = request.agentId ?? request.taskId;
  const sliced = request.slice !== undefined && Object.values(request.slice).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  const extension = FORMAT_EXTENSIONS[request.format] + (request.gzip === true ? '.gz' : '');
  const stem = safeFileStem(`${subject}${request.format === 'replay-html' ? '-replay' : ''}${sliced ? '-slice' : ''}`);
  return stem.slice(0, MAX_FILE_NAME_CHARS) + extension;
}

/** Any run of characters outside `[A-Za-z0-9._-]` becomes `_`; leading dots and dashes go. */
export function safeFileStem(text: string): string {
  const stem = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.\-_]+/, '');
  return stem.length > 0 ? stem : 'loupe-export';
}

/** The Content-Type of an export download. */
export function exportContentType(request: ExportFileRequest): string {
  if (request.gzip === true) return 'application/gzip';
  switch (request.format) {
    case 'jsonl':
      return 'application/x-ndjson; charset=utf-8';
    case 'html':
    case 'replay-html':
      return 'text/html; charset=utf-8';
    case 'cast':
      return 'application/x-asciicast; charset=utf-8';
    case 'text':
    case 'ansi':
      return 'text/plain; charset=utf-8';
  }
}
