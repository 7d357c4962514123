/** A pane's zoom, shown in its header while it is not 100 %; clicking it resets the pane. */
import { ZOOM_STEP } from '../terminal/fitTerminal.js';
import { appStore, useApp } from '../store/useApp.js';

/** Zoom steps as the percentage users know from browsers. */
export const zoomPercent = (steps: number) => `${Math.round(100 * ZOOM_STEP ** steps)}%`;

export function ZoomBadge({ paneKey }: { paneKey: string }) {
  const steps = useApp((s) => s.zoomAll + (s.paneZoom[paneKey] ?? 0));
  const own = useApp((s) => s.paneZoom[paneKey] ?? 0);
  if (steps === 0) return null;
  return (
    <button
      className="badge badge-zoom"
      title={own !== 0 ? 'Zoom of this pane: click or Z to reset it' : 'Zoom of all panes: Ctrl+0 resets it'}
      onClick={() => appStore.getState().zoom(own !== 0 ? { pane: paneKey } : 'all', 0)}
    >
      {zoomPercent(steps)}
    </button>
  );
}
