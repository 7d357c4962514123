/**
 * The export dialog's form, apart from React: what it starts with (the pane's filter, or the
 * replay position, or the whole run), and how it becomes an `ExportFileRequest` for
 * `export:preview`, `export:save` and the web view's download link.
 */
import type { EntryType, Level } from '../../shared/entry.js';
import type { EXPORT_DOWNLOAD_PATH, ExportFileRequest, ExportFormatName, ExportSliceRequest } from '../../shared/ipc.js';
import type { PaneFilter } from '../store/appStore.js';

/**
 * The download path, typed against the contract's constant (not imported at run time: shared/ipc.ts
 * also carries the backend's zod schemas, which the UI never needs).
 */
const DOWNLOAD_PATH: typeof EXPORT_DOWNLOAD_PATH = '/export';

/** What to export: one agent (from its pane or the sidebar) or every agent of a task. */
export interface ExportTarget {
  root: string;
  taskId: string;
  /** Null for the whole task. */
  agentId: string | null;
  /** The agents the export holds (one, or the task's). */
  agentIds: string[];
  /** The pane it was opened from, whose filter or replay position is the default slice. */
  paneKey: string | null;
}

/** The dialog's fields, as the user edits them (numbers and times as typed). */
export interface ExportForm {
  format: ExportFormatName;
  gzip: boolean;
  redact: boolean;
  fromSeq: string;
  toSeq: string;
  since: string;
  until: string;
  types: EntryType[];
  minLevel: Level | null;
  grep: string;
}

/** The formats as the dialog offers them, with what each is for. */
export const FORMAT_CHOICES: { format: ExportFormatName; label: string; hint: string }[] = [
  { format: 'replay-html', label: 'Replay (HTML)', hint: 'offline player + scrubber' },
  { format: 'html', label: 'HTML', hint: 'static page with colors' },
  { format: 'text', label: 'Text', hint: 'plain text, colors stripped' },
  { format: 'ansi', label: 'ANSI', hint: 'the exact terminal bytes' },
  { format: 'cast', label: 'asciicast', hint: 'plays in asciinema' },
  { format: 'jsonl', label: 'JSONL', hint: 'log entries as stored' },
];

/** Where the default slice came from, shown above the slice fields. */
export type SliceSource = 'filter' | 'replay' | 'whole';

/** The form a dialog opens with: the pane's filter if one is active, else up to the replay position, else the whole run. */
export function initialForm(
  target: ExportTarget,
  pane: { filter: PaneFilter | null; replaySeq: number | null } | null,
): { form: ExportForm; source: SliceSource } {
  const form: ExportForm = {
    // A task holds several agents: replay-html has an agent picker, a .cast holds one terminal.
    format: 'replay-html',
    gzip: false,
    redact: true,
    fromSeq: '',
    toSeq: '',
    since: '',
    until: '',
    types: [],
    minLevel: null,
    grep: '',
  };
  if (target.agentId !== null && pane?.filter) {
    const { types, minLevel, grep } = pane.filter;
    return { form: { ...form, format: 'text', types: [...types], minLevel, grep }, source: 'filter' };
  }
  if (target.agentId !== null && pane?.replaySeq !== null && pane?.replaySeq !== undefined && pane.replaySeq > 0) {
    return { form: { ...form, toSeq: String(pane.replaySeq) }, source: 'replay' };
  }
  return { form, source: 'whole' };
}

/** The form back to the whole run (format, gzip and redaction kept). */
export function wholeRun(form: ExportForm): ExportForm {
  return { ...form, fromSeq: '', toSeq: '', since: '', until: '', types: [], minLevel: null, grep: '' };
}

/** A field the user typed that cannot be sent; the message names it. */
export class FormError extends Error {
  override name = 'FormError';
}

/** The request the form describes. Throws `FormError` for a sequence that is not a number. */
export function exportRequest(target: ExportTarget, form: ExportForm): ExportFileRequest {
  const slice: ExportSliceRequest = {};
  const fromSeq = sequence(form.fromSeq, 'From entry');
  const toSeq = sequence(form.toSeq, 'To entry');
  if (fromSeq !== undefined) slice.fromSeq = fromSeq;
  if (toSeq !== undefined) slice.toSeq = toSeq;
  if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) throw new FormError(`From entry ${fromSeq} is after To entry ${toSeq}; swap them`);
  if (form.since.trim() !== '') slice.since = form.since.trim();
  if (form.until.trim() !== '') slice.until = form.until.trim();
  if (form.types.length > 0) slice.types = [...form.types];
  if (form.minLevel !== null) slice.minLevel = form.minLevel;
  if (form.grep !== '') slice.grep = form.grep;
  return {
    root: target.root,
    taskId: target.taskId,
    ...(target.agentId !== null ? { agentId: target.agentId } : {}),
    ...(Object.keys(slice).length > 0 ? { slice } : {}),
    redact: form.redact,
    format: form.format,
    gzip: form.gzip,
  };
}

/** The web view's download link for a request (same origin: the token travels in the cookie). */
export function downloadHref(request: ExportFileRequest): string {
  const { progressId: _progressId, ...rest } = request;
  return `${DOWNLOAD_PATH}?request=${encodeURIComponent(JSON.stringify(rest))}`;
}

function sequence(text: string, field: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (!/^\d+$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) {
    throw new FormError(`${field} must be an entry number (1 or more), not ${JSON.stringify(t)}`);
  }
  return Number(t);
}
