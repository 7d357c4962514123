/**
 * The React view of one agent pane. It creates the pane's terminal controller and live feed,
 * hands them a DOM node and forwards store changes to them; it never calls xterm itself.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { PaneModel } from '../store/appStore.js';
import { signalAgentActivity } from '../store/activity.js';
import { appStore, useApp } from '../store/useApp.js';
import { AgentFeed } from '../terminal/agentFeed.js';
import { judgeLink } from '../terminal/hostileOutput.js';
import { registerController } from '../terminal/paneRegistry.js';
import { TerminalController } from '../terminal/terminalController.js';
import { ReplayView } from '../replay/ReplayView.js';
import { FilterView } from './FilterView.js';
import { openPaneExport } from '../export/exportTarget.js';
import { CloseIcon, ExportIcon, FilterIcon, MaximizeIcon, ReplayIcon, RestoreIcon, SearchIcon } from './Icons.js';
import { PaneSearchBar } from './PaneSearchBar.js';
import { ReplyBar } from './ReplyBar.js';
import { PaneStatus } from './PaneStatus.js';
import { taskLabel } from './Sidebar.js';
import { usePaneFit } from './usePaneFit.js';
import { ZoomBadge } from './ZoomBadge.js';

/** Used until the workspace says what size the agent's terminal was recorded at. */
const DEFAULT_SIZE = { cols: 80, rows: 24 };

export function TerminalPane({ pane, visible, order }: { pane: PaneModel; visible: boolean; order: number }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const mountRef = useRef<HTMLDivElement>(null);
  const [controller, setController] = useState<TerminalController | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const theme = useApp((s) => s.theme);
  const focused = useApp((s) => s.focusedKey === pane.key);
  const maximized = useApp((s) => s.maximizedKey === pane.key);
  const agentInfo = useApp((s) =>
    s.workspace?.roots
      .find((r) => r.root === pane.agent.root)
      ?.tasks.find((t) => t.taskId === pane.agent.taskId)
      ?.agents.find((a) => a.agentId === pane.agent.agentId),
  );
  // From a store (`loupe serve --store`): the machine the agent ran on, and its folder there.
  const place = useApp((s) => s.workspace?.roots.find((r) => r.root === pane.agent.root));
  const { key, agent } = pane;
  const canReply = useApp((s) => s.info?.allowedControl.includes('agent:reply') ?? false);

  // Controller and feed live exactly as long as the pane is open.
  useLayoutEffect(() => {
    const s = appStore.getState();
    const size = { cols: agentInfo?.cols ?? DEFAULT_SIZE.cols, rows: agentInfo?.rows ?? DEFAULT_SIZE.rows };
    const ctl = new TerminalController({
      theme: s.theme,
      ...size,
      onLink: (uri) => {
        const verdict = judgeLink(uri);
        appStore.getState().setLinkRequest({ uri, url: verdict.allowed ? verdict.url : null, reason: verdict.allowed ? null : verdict.reason });
      },
      onSearchResult: ({ index, count }) => appStore.getState().setSearchResult(key, index, count),
      onResize: (cols, rows) => appStore.getState().setPaneSize(key, cols, rows),
    });
    ctl.open(mountRef.current!);
    s.setPaneSize(key, size.cols, size.rows);
    const f = new AgentFeed(agent, ctl, {
      onActivity: () => signalAgentActivity(key),
      onError: (message) => setLoadError(message),
    });
    const unregister = registerController(key, ctl);
    setController(ctl);
    void f.start();
    return () => {
      unregister();
      f.dispose();
      ctl.dispose();
      setController(null);
    };
    // The workspace size only matters at creation: later sizes come from the log itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => controller?.setTheme(theme), [controller, theme]);

  // Fit the recorded cols × rows into the pane by choosing the font size, never by re-wrapping.
  usePaneFit(hostRef, controller, key, visible);

  const s = appStore.getState;
  const state = agentInfo?.state ?? 'ended';
  const attention = agentInfo?.attention ?? null;
  const waiting = agentInfo?.state === 'live' && attention?.state === 'waiting';
  const className = ['pane', focused && 'is-focused', maximized && 'is-maximized', !visible && 'is-parked', state === 'error' && 'has-error', waiting && 'is-waiting']
    .filter(Boolean)
    .join(' ');

  return (
    <section
      className={className}
      style={{ order: order < 0 ? undefined : order }}
      data-agent={agent.agentId}
      aria-label={`Agent ${agent.agentId}`}
      aria-hidden={!visible}
      onMouseDown={() => s().focusPane(key)}
    >
      <header className="pane-head">
        <span className={`state-dot state-${state}${attention ? ` attention-${attention.state}` : ''}`} />
        <span className="pane-title" title={place?.machine !== undefined ? `${agent.agentId} on ${place.machine} (${place.path ?? ''})` : undefined}>
          {agent.agentId}
        </span>
        {place?.machine !== undefined && <span className="pane-machine">{place.machine}</span>}
        {waiting && (
          <span className="badge badge-waiting" title={attention?.prompt ?? attention?.reason}>
            needs you
          </span>
        )}
        <span className="pane-sub" title={agent.taskId}>
          {taskLabel(agent.taskId)}
        </span>
        {pane.cols !== null && (
          <span className="pane-size" title="Recorded terminal size">
            {pane.cols}×{pane.rows}
          </span>
        )}
        {pane.filter && <span className="badge badge-filter">filtered</span>}
        {pane.replay && <span className="badge badge-replay">replay</span>}
        <ZoomBadge paneKey={key} />
        <span className="pane-actions">
          <button className="icon-btn" title="Find in pane (Ctrl+F)" aria-label="Find in pane" onClick={() => s().openSearch(key)}>
            <SearchIcon />
          </button>
          <button
            className={`icon-btn${pane.replay ? ' is-active' : ''}`}
            title={pane.replay ? 'Back to live (L)' : 'Replay this run (R)'}
            aria-label={pane.replay ? 'Back to live' : 'Replay'}
            onClick={() => (pane.replay ? s().closeReplay(key) : s().openReplay(key))}
          >
            <ReplayIcon />
          </button>
          <button
            className={`icon-btn${pane.filter ? ' is-active' : ''}`}
            title="Filter lines (F)"
            aria-label="Filter lines"
            onClick={() => s().setFilter(key, pane.filter ? null : { types: [], minLevel: null, grep: '' })}
          >
            <FilterIcon />
          </button>
          <button className="icon-btn" title="Export this run (X)" aria-label="Export" onClick={() => openPaneExport(key)}>
            <ExportIcon />
          </button>
          <button className="icon-btn" title={maximized ? 'Restore (M)' : 'Maximize (M)'} aria-label={maximized ? 'Restore' : 'Maximize'} onClick={() => s().toggleMaximize(key)}>
            {maximized ? <RestoreIcon /> : <MaximizeIcon />}
          </button>
          <button className="icon-btn" title="Close pane (W)" aria-label="Close pane" onClick={() => s().closePane(key)}>
            <CloseIcon />
          </button>
        </span>
      </header>
      {pane.search.open && !pane.filter && <PaneSearchBar pane={pane} />}
      {pane.filter && <FilterView pane={pane} />}
      {pane.replay && !pane.filter && <ReplayView pane={pane} />}
      <div className="term-host" ref={hostRef} hidden={pane.filter !== null || pane.replay !== null}>
        <div className="term-mount" ref={mountRef} />
        {loadError && <div className="pane-error">Could not load this agent: {loadError}</div>}
      </div>
      {waiting && canReply && agentInfo && !pane.replay && <ReplyBar agent={agentInfo} />}
      <PaneStatus pane={pane} />
    </section>
  );
}
