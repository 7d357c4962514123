/** The strip above the grid: view switch, layout, theme, help and connection state. */
import { LAYOUTS, type Layout } from '../store/persistence.js';
import { appStore, useApp } from '../store/useApp.js';

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
