/**
 * The grid of open agent panes. Every open pane stays mounted (so it keeps streaming and keeps its
 * scrollback); the layout decides which are on screen, the others are parked off screen.
 */
import { useEffect, useRef, useState } from 'react';
import { gridShape, visiblePanes } from '../store/appStore.js';
import { useApp } from '../store/useApp.js';
import { TerminalPane } from './TerminalPane.js';

export function PaneGrid() {
  const panes = useApp((s) => s.panes);
  const layout = useApp((s) => s.layout);
  const focusedKey = useApp((s) => s.focusedKey);
  const maximizedKey = useApp((s) => s.maximizedKey);
  const visible = visiblePanes({ panes, layout, focusedKey, maximizedKey });
  const shown = new Set(visible.map((p) => p.key));
  const gridRef = useRef<HTMLDivElement>(null);
  const [area, setArea] = useState<{ width: number; height: number } | null>(null);
  useEffect(() => {
    const grid = gridRef.current;
    if (!grid) return;
    const observer = new ResizeObserver(() => setArea({ width: grid.clientWidth, height: grid.clientHeight }));
    observer.observe(grid);
    return () => observer.disconnect();
  }, [panes.length === 0]);
  const terminals = visible.map((p) => ({ cols: p.cols ?? 80, rows: p.rows ?? 24 }));
  const { columns, rows } = gridShape(maximizedKey ? 1 : layout, terminals, area);

  if (panes.length === 0) {
    return (
      <div className="empty-grid">
        <div className="empty-card">
          <h2>No agent open</h2>
          <p>Pick an agent in the sidebar to watch it live.</p>
          <p className="muted">
            Nothing there yet? Run <code>npx loupe demo</code> or <code>npx loupe run -- your-agent</code>. Press <kbd>?</kbd> for shortcuts.
          </p>
        </div>
      </div>
    );
  }

  return (
    <div className="pane-grid" ref={gridRef} style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))` }}>
      {panes.map((pane) => (
        <TerminalPane key={pane.key} pane={pane} visible={shown.has(pane.key)} order={visible.findIndex((p) => p.key === pane.key)} />
      ))}
    </div>
  );
}
