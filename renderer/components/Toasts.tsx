/** In-app notifications: an agent exited or errored, a capture attached, an action failed. */
import { useEffect } from 'react';
import type { Toast } from '../store/appStore.js';
import { appStore, useApp } from '../store/useApp.js';

/** How long a toast stays; errors stay longer so they are not missed. */
const TOAST_MS = { info: 6000, error: 15000 } as const;

export function Toasts() {
  const toasts = useApp((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <ToastCard key={toast.id} toast={toast} />
      ))}
    </div>
  );
}

function ToastCard({ toast }: { toast: Toast }) {
  const s = appStore.getState;
  useEffect(() => {
    const timer = setTimeout(() => s().dismissToast(toast.id), TOAST_MS[toast.kind]);
    return () => clearTimeout(timer);
  }, [toast.id, toast.kind, s]);
  return (
    <div className={`toast toast-${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'}>
      <div className="toast-body">
        <strong>{toast.title}</strong>
        {toast.message && <div className="toast-msg">{toast.message}</div>}
      </div>
      {toast.agent && (
        <button className="btn btn-small" onClick={() => (s().openAgent(toast.agent!), s().dismissToast(toast.id))}>
          Open
        </button>
      )}
      <button className="icon-btn" aria-label="Dismiss" onClick={() => s().dismissToast(toast.id)}>
        ✕
      </button>
    </div>
  );
}
