/** The strip above the grid: view switch, layout, text size, theme, help and connection state. */
import { LAYOUTS, type Layout } from '../store/persistence.js';
import { MIN_FONT_SIZE_RANGE } from '../terminal/fitTerminal.js';
import { appStore, useApp } from '../store/useApp.js';
import { zoomPercent } from './ZoomBadge.js';

const MIN_FONT_CHOICES = Array.from({ length: MIN_FONT_SIZE_RANGE.max - MIN_FONT_SIZE_RANGE.min + 1 }, (_, i) => MIN_FONT_SIZE_RANGE.min + i);

/** Zoom of all panes, and the smallest text panes fit to before they scroll. */
function TextSize() {
  const zoomAll = useApp((s) => s.zoomAll);
  const minFontSize = useApp((s) => s.minFontSize);
  const s = appStore.getState;
  return (
    <div className="segmented text-size" role="group" aria-label="Text size">
      <button className="seg" title="Smaller text in all panes (Ctrl+−)" aria-label="Smaller text in all panes" onClick={() => s().zoom('all', -1)}>
        A−
      </button>
      <button className="seg seg-value" title="Text size of all panes: click to reset (Ctrl+0)" aria-label="Reset text size" onClick={() => s().zoom('all', 0)}>
        {zoomPercent(zoomAll)}
      </button>
      <button className="seg" title="Larger text in all panes (Ctrl+=)" aria-label="Larger text in all panes" onClick={() => s().zoom('all', 1)}>
        A+
      </button>
      <label className="seg seg-select" title="Smallest text a pane fits to; below it the pane keeps this size and scrolls">
        min
        <select aria-label="Smallest text" value={minFontSize} onChange={(e) => { s().setMinFontSize(Number(e.target.value)); e.currentTarget.blur(); }}>
          {MIN_FONT_CHOICES.map((size) => (
            <option key={size} value={size}>
              {size}px
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

const LAYOUT_LABELS: Record<string, { label: string; key: string }> = {
  '1': { label: '1', key: '1' },
  '2': { label: '2', key: '2' },
  '4': { label: '4', key: '4' },
  auto: { label: 'Auto', key: '0' },
};

export function Toolbar() {
  const view = useApp((s) => s.view);
  const layout = useApp((s) => s.layout);
  const theme = useApp((s) => s.theme);
  const connection = useApp((s) => s.connection);
  const error = useApp((s) => s.error);
  const paneCount = useApp((s) => s.panes.length);
  const s = appStore.getState;

  return (
    <header className="toolbar">
      <div className="tabs" role="tablist">
        <button role="tab" aria-selected={view === 'panes'} className={`tab${view === 'panes' ? ' is-active' : ''}`} onClick={() => s().setView('panes')}>
          Panes <span className="count">{paneCount}</span>
        </button>
        <button
          role="tab"
          aria-selected={view === 'search'}
          className={`tab${view === 'search' ? ' is-active' : ''}`}
          title="Search all agents (Ctrl+Shift+F)"
          onClick={() => s().setView('search')}
        >
          Search
        </button>
      </div>
      {error && (
        <div className="toolbar-error" role="alert" title={error}>
          {error}
        </div>
      )}
      <div className="toolbar-right">
        <div className="segmented" role="group" aria-label="Layout">
          {LAYOUTS.map((l: Layout) => {
            const { label, key } = LAYOUT_LABELS[String(l)];
            return (
              <button
                key={String(l)}
                className={`seg${layout === l ? ' is-active' : ''}`}
                aria-pressed={layout === l}
                title={`Layout ${label} (${key})`}
                data-layout={String(l)}
                onClick={() => s().setLayout(l)}
              >
                {label}
              </button>
            );
          })}
        </div>
        <TextSize />
        <button className="btn btn-ghost" title="Switch theme (T)" aria-label="Switch theme" onClick={() => s().toggleTheme()}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <button className="btn btn-ghost" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" onClick={() => s().setOverlay('help')}>
          ?
        </button>
        <span className={`conn conn-${connection}`} title={`Backend: ${connection}`} aria-label={`backend ${connection}`} />
      </div>
    </header>
  );
}
