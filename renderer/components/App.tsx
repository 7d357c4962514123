/** The whole window: sidebar, toolbar, pane grid or global search, and the overlays. */
import { useEffect } from 'react';
import { invoke, onConnectionState, onPush } from '../bridge.js';
import { installDeepLinks } from '../replay/deepLinks.js';
import { installShortcuts } from '../shortcuts.js';
import type { AgentNotice } from '../../shared/ipc.js';
import { waitingAgents } from '../store/attention.js';
import { appStore, useApp } from '../store/useApp.js';
import { ExportDialog } from './ExportDialog.js';
import { GlobalSearch } from './GlobalSearch.js';
import { HelpOverlay } from './HelpOverlay.js';
import { LinkDialog } from './LinkDialog.js';
import { NewAgentDialog } from './NewAgentDialog.js';
import { PaneGrid } from './PaneGrid.js';
import { Sidebar } from './Sidebar.js';
import { Toasts } from './Toasts.js';
import { Toolbar } from './Toolbar.js';

/**
 * How often the sidebar re-reads the workspace while nothing is pushed, so entry counts and
 * uncaptured tmux panes stay current (pushes cover captures starting and stopping).
 */
const WORKSPACE_REFRESH_MS = 3000;

export function App() {
  const theme = useApp((s) => s.theme);
  const view = useApp((s) => s.view);
  const overlay = useApp((s) => s.overlay);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => installShortcuts(), []);

  useEffect(() => connectBackend(), []);

  useEffect(() => installDeepLinks(), []);

  // The count of agents waiting for you, in the window or tab title.
  const waiting = useApp((s) => waitingAgents(s.workspace).length);
  useEffect(() => {
    document.title = waiting > 0 ? `(${waiting}) Loupe` : 'Loupe';
  }, [waiting]);

  return (
    <div className="app">
      <Sidebar />
      <main className="main">
        <Toolbar />
        {view === 'search' ? <GlobalSearch /> : <PaneGrid />}
      </main>
      {overlay === 'help' && <HelpOverlay />}
      {overlay === 'newAgent' && <NewAgentDialog />}
      {overlay === 'export' && <ExportDialog />}
      <LinkDialog />
      <Toasts />
    </div>
  );
}

function noticeTitle(notice: AgentNotice): string {
  if (notice.kind === 'waiting') return `${notice.agent.agentId} needs you`;
  if (notice.kind === 'error') return `${notice.agent.agentId}: error`;
  return `${notice.agent.agentId} exited${notice.exitStatus === null ? '' : ` (status ${notice.exitStatus})`}`;
}

/** Loads app info and the workspace, and keeps them current; returns the cleanup. */
function connectBackend(): () => void {
  const s = () => appStore.getState();
  let stopped = false;
  let listing = false;

  let firstListing = true;
  const refresh = async () => {
    if (listing || stopped) return;
    listing = true;
    try {
      s().setWorkspace(await invoke('workspace:list', {}));
      if (firstListing) {
        firstListing = false;
        s().openLiveAgents();
      }
      s().setError(null);
    } catch (err) {
      s().setError(`could not list the workspace: ${(err as Error).message}`);
    } finally {
      listing = false;
    }
  };

  void invoke('app:info', {})
    .then((info) => {
      s().setInfo(info);
      s().setConnection('open');
    })
    .catch((err: Error) => s().setError(`could not reach the Loupe backend: ${err.message}`));
  void refresh();
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, WORKSPACE_REFRESH_MS);

  const cleanups = [
    onPush('workspace:changed', () => void refresh()),
    onPush('agent:notice', (notice) => {
      s().pushToast({
        kind: notice.kind === 'error' || (notice.exitStatus ?? 0) !== 0 ? 'error' : 'info',
        title: noticeTitle(notice),
        message: notice.message,
        agent: notice.agent,
      });
      // The desktop app notifies from its main process; a browser does here, with permission.
      if (notice.kind === 'waiting' && window.loupe === undefined && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
        new Notification(noticeTitle(notice), { body: notice.message, tag: `loupe-${notice.agent.agentId}` });
      }
      void refresh();
    }),
    onConnectionState((state) => s().setConnection(state)),
  ];
  return () => {
    stopped = true;
    clearInterval(timer);
    for (const cleanup of cleanups) cleanup();
  };
}
