/**
 * The export dialog (issue 6, SPEC §8): format, gzip, slice (the pane's filter or replay position
 * by default), redaction with a live preview of what would be redacted, then a save-file dialog
 * in the desktop app or a download in the web view.
 */
import { useEffect, useMemo, useState } from 'react';
import { ENTRY_TYPES, LEVELS, type EntryType, type Level } from '../../shared/entry.js';
import type { ExportFileRequest, ExportSummaryResult } from '../../shared/ipc.js';
import { invoke, onPush } from '../bridge.js';
import { downloadHref, exportRequest, FORMAT_CHOICES, initialForm, wholeRun, type ExportForm, type ExportTarget, type SliceSource } from '../export/exportForm.js';
import { useExportTarget } from '../export/exportTarget.js';
import '../export/export.css';
import { replayFor } from '../replay/replayController.js';
import { appStore, useApp } from '../store/useApp.js';
import { formatCount } from './format.js';
import { taskLabel } from './Sidebar.js';

/** Wait for the user to stop typing before counting again (a preview reads the whole run). */
const PREVIEW_DEBOUNCE_MS = 300;

const SOURCE_NOTES: Record<SliceSource, string> = {
  filter: 'From the pane’s filter.',
  replay: 'Up to the replay position.',
  whole: 'The whole run.',
};

export function ExportDialog() {
  const target = useExportTarget();
  if (target === null) return null;
  // Keyed by target, so opening it on another run starts from that run's defaults.
  return <ExportDialogBody key={`${target.root}\n${target.taskId}\n${target.agentId ?? ''}`} target={target} />;
}

function ExportDialogBody({ target }: { target: ExportTarget }) {
  const info = useApp((s) => s.info);
  const desktop = info?.transport === 'ipc';
  const initial = useMemo(() => {
    const pane = target.paneKey ? appStore.getState().panes.find((p) => p.key === target.paneKey) : undefined;
    const replaySeq = pane?.replay ? (replayFor(pane.key)?.status.seq ?? null) : null;
    return initialForm(target, pane ? { filter: pane.filter, replaySeq } : null);
  }, [target]);
  const [form, setForm] = useState<ExportForm>(initial.form);
  const [source, setSource] = useState<SliceSource>(initial.source);
  const [preview, setPreview] = useState<ExportSummaryResult | null>(null);
  const [counting, setCounting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const close = () => appStore.getState().setOverlay(null);
  const update = (patch: Partial<ExportForm>) => setForm((f) => ({ ...f, ...patch }));
  const editSlice = (patch: Partial<ExportForm>) => {
    update(patch);
    setSource('whole');
  };
  const isTask = target.agentId === null;
  const severalAgents = target.agentIds.length > 1;

  let request: ExportFileRequest | null = null;
  let formError: string | null = null;
  try {
    request = exportRequest(target, form);
  } catch (err) {
    formError = (err as Error).message;
  }
  // The preview depends on the slice and redaction only, not on the format or gzip.
  const previewKey = request ? JSON.stringify({ ...request, format: undefined, gzip: undefined }) : null;

  useEffect(() => {
    if (previewKey === null) return;
    let cancelled = false;
    setCounting(true);
    const timer = setTimeout(() => {
      const { format: _format, gzip: _gzip, ...args } = JSON.parse(previewKey) as ExportFileRequest;
      invoke('export:preview', args).then(
        (result) => {
          if (cancelled) return;
          setPreview(result);
          setError(null);
          setCounting(false);
        },
        (err: Error) => {
          if (cancelled) return;
          setPreview(null);
          setError(err.message);
          setCounting(false);
        },
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [previewKey]);

  const run = async () => {
    if (request === null) return;
    setError(null);
    if (!desktop) {
      triggerDownload(downloadHref(request));
      appStore.getState().pushToast({ kind: 'info', title: 'Export downloading', message: describeExport(request, preview), agent: null });
      close();
      return;
    }
    const progressId = `export-${Date.now().toString(36)}`;
    const stop = onPush('export:progress', (p) => {
      if (p.progressId === progressId && p.totalBytes > 0) setProgress(Math.min(1, p.bytesRead / p.totalBytes));
    });
    setProgress(0);
    try {
      const saved = await invoke('export:save', { ...request, progressId });
      if (saved !== null) {
        appStore.getState().pushToast({ kind: 'info', title: 'Export saved', message: `${saved.file}: ${describeExport(request, saved)}`, agent: null });
        close();
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      stop();
      setProgress(null);
    }
  };

  const title = isTask ? `Export task ${taskLabel(target.taskId)}` : `Export ${target.agentId}`;
  return (
    <div className="overlay" role="presentation" onMouseDown={close}>
      <form
        className="dialog export-dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        onMouseDown={(e) => e.stopPropagation()}
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <header className="dialog-head">
          <h2>{title}</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        {isTask && (
          <p className="muted export-note">
            {target.agentIds.length} agent{severalAgents ? 's' : ''}: {target.agentIds.join(', ')}
          </p>
        )}

        <fieldset className="export-section">
          <legend>Format</legend>
          <div className="export-formats" role="radiogroup" aria-label="Format">
            {FORMAT_CHOICES.map((choice) => {
              // A .cast file holds one terminal; a task has several.
              const disabled = severalAgents && choice.format === 'cast';
              const hint = disabled ? 'one agent only' : severalAgents && choice.format === 'replay-html' ? 'all agents, with an agent picker' : choice.hint;
              return (
                <label key={choice.format} className={`export-format${form.format === choice.format ? ' is-on' : ''}${disabled ? ' is-disabled' : ''}`}>
                  <input type="radio" name="format" value={choice.format} checked={form.format === choice.format} disabled={disabled} onChange={() => update({ format: choice.format })} />
                  <span className="export-format-label">{choice.label}</span>
                  <span className="export-format-hint">{hint}</span>
                </label>
              );
            })}
          </div>
          <label className="export-check">
            <input type="checkbox" checked={form.gzip} onChange={(e) => update({ gzip: e.target.checked })} /> Compress (.gz)
          </label>
        </fieldset>

        <fieldset className="export-section">
          <legend>Slice</legend>
          <div className="export-source">
            <span className="muted">{SOURCE_NOTES[source]}</span>
            <button
              type="button"
              className="btn btn-tiny"
              onClick={() => {
                setForm(wholeRun(form));
                setSource('whole');
              }}
            >
              Whole run
            </button>
          </div>
          <div className="export-grid">
            <label className="field">
              <span>From entry</span>
              <input inputMode="numeric" placeholder="first" value={form.fromSeq} onChange={(e) => editSlice({ fromSeq: e.target.value })} />
            </label>
            <label className="field">
              <span>To entry</span>
              <input inputMode="numeric" placeholder="last" value={form.toSeq} onChange={(e) => editSlice({ toSeq: e.target.value })} />
            </label>
            <label className="field">
              <span>Since</span>
              <input placeholder="2026-01-31T14:00, 15m" spellCheck={false} value={form.since} onChange={(e) => editSlice({ since: e.target.value })} />
            </label>
            <label className="field">
              <span>Until</span>
              <input placeholder="time or duration ago" spellCheck={false} value={form.until} onChange={(e) => editSlice({ until: e.target.value })} />
            </label>
          </div>
          <div className="export-row">
            <span className="export-row-label">Types</span>
            {ENTRY_TYPES.map((type) => (
              <button
                type="button"
                key={type}
                className={`chip chip-${type}${form.types.includes(type) ? ' is-on' : ''}`}
                aria-pressed={form.types.includes(type)}
                onClick={() => editSlice({ types: toggle(form.types, type) })}
              >
                {type}
              </button>
            ))}
            <label className="export-level">
              <span className="export-row-label">Level</span>
              <select value={form.minLevel ?? ''} onChange={(e) => editSlice({ minLevel: (e.target.value || null) as Level | null })}>
                <option value="">any</option>
                {LEVELS.map((level) => (
                  <option key={level} value={level}>
                    {level} and worse
                  </option>
                ))}
              </select>
            </label>
          </div>
          <label className="field">
            <span>Regex</span>
            <input placeholder="RE2, matched on text without colors" spellCheck={false} value={form.grep} onChange={(e) => editSlice({ grep: e.target.value })} />
          </label>
        </fieldset>

        <fieldset className="export-section">
          <legend>Secrets</legend>
          <label className="export-check">
            <input type="checkbox" checked={form.redact} onChange={(e) => update({ redact: e.target.checked })} /> Redact secrets (API keys, tokens, passwords,
            private keys)
          </label>
          {!form.redact && <div className="export-warn">Secrets will be exported as they are. Share this file with care.</div>}
          <div className="export-preview" aria-live="polite" data-testid="export-preview">
            {formError ?? (counting && preview === null ? 'Counting…' : preview ? <PreviewLine preview={preview} /> : null)}
            {counting && preview !== null && <span className="muted"> (updating…)</span>}
          </div>
        </fieldset>

        {error && <div className="filter-error">{error}</div>}
        {progress !== null && (
          <div className="export-progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(progress * 100)}>
            <div style={{ width: `${Math.round(progress * 100)}%` }} />
          </div>
        )}
        <footer className="dialog-foot">
          <span className="muted export-foot-note">{desktop ? '' : 'Downloads through this browser.'}</span>
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={request === null || progress !== null || (preview !== null && preview.entries === 0)}>
            {desktop ? (progress !== null ? 'Exporting…' : 'Save…') : 'Download'}
          </button>
        </footer>
      </form>
    </div>
  );
}

function PreviewLine({ preview }: { preview: ExportSummaryResult }) {
  const kinds = Object.entries(preview.redactions ?? {}).filter(([, n]) => n > 0);
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  return (
    <>
      <span className="export-entries">
        {formatCount(preview.entries)} entr{preview.entries === 1 ? 'y' : 'ies'}
        {preview.agents > 1 ? ` of ${preview.agents} agents` : ''}
      </span>
      {' · '}
      {preview.redactions === null ? (
        <span className="export-off">redaction off</span>
      ) : total === 0 ? (
        <span className="muted">no secrets found</span>
      ) : (
        <>
          <strong className="export-redacted" data-testid="export-redaction-total">
            {total} secret{total === 1 ? '' : 's'} redacted
          </strong>
          <span className="export-kinds">
            {kinds.map(([kind, n]) => (
              <span key={kind} className="chip export-kind" data-kind={kind}>
                {kind} <span className="chip-count">{n}</span>
              </span>
            ))}
          </span>
        </>
      )}
    </>
  );
}

/** `replay-html, 42 entries, 3 secrets redacted`. */
function describeExport(request: ExportFileRequest, summary: ExportSummaryResult | null): string {
  const parts = [`${request.format}${request.gzip ? ' (gzip)' : ''}`];
  if (summary) {
    parts.push(`${summary.entries} entries`);
    const total = Object.values(summary.redactions ?? {}).reduce((a, b) => a + b, 0);
    parts.push(summary.redactions === null ? 'redaction off' : `${total} secret${total === 1 ? '' : 's'} redacted`);
  }
  return parts.join(', ');
}

/** Starts a download through a same-origin link; the server names the file (Content-Disposition). */
function triggerDownload(href: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = '';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

function toggle(list: EntryType[], item: EntryType): EntryType[] {
  return list.includes(item) ? list.filter((t) => t !== item) : [...list, item];
}
