/**
 * Confirms a link an agent printed (OSC 8) before anything opens it. Agent output is untrusted,
 * so the dialog shows the real target and only https links get an "Open" button (SPEC §9).
 */
import { appStore, useApp } from '../store/useApp.js';

export function LinkDialog() {
  const request = useApp((s) => s.linkRequest);
  if (!request) return null;
  const close = () => appStore.getState().setLinkRequest(null);
  const open = () => {
    if (request.url) window.open(request.url, '_blank', 'noopener,noreferrer');
    close();
  };
  return (
    <div className="overlay" role="presentation" onMouseDown={close}>
      <div className="dialog" role="alertdialog" aria-modal="true" aria-label="Open link" onMouseDown={(e) => e.stopPropagation()}>
        <header className="dialog-head">
          <h2>{request.url ? 'Open this link?' : 'Link blocked'}</h2>
        </header>
        <p className="muted">An agent printed this link. Its target is:</p>
        <code className="link-target">{request.url ?? request.uri}</code>
        {request.reason && <p className="filter-error">{request.reason}.</p>}
        <footer className="dialog-foot">
          <button className="btn" autoFocus={!request.url} onClick={close}>
            {request.url ? 'Cancel' : 'Close'}
          </button>
          {request.url && (
            <button className="btn btn-primary" onClick={open}>
              Open in browser
            </button>
          )}
        </footer>
      </div>
    </div>
  );
}
