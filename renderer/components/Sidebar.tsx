/** The sidebar: roots → tasks → agents with state badges and entry counts, and uncaptured tmux panes. */
import { useState } from 'react';
import type { TmuxPane, WorkspaceAgent, WorkspaceRoot, WorkspaceTask } from '../../shared/ipc.js';
import { invoke } from '../bridge.js';
import { agentKey } from '../store/agentKey.js';
import { appStore, useApp } from '../store/useApp.js';
import { openExport } from '../export/exportTarget.js';
import { formatCount } from './format.js';
import { NeedsYou } from './NeedsYou.js';
import { shownState } from '../store/attention.js';
import { ExportIcon } from './Icons.js';

export function Sidebar() {
  const workspace = useApp((s) => s.workspace);
  const info = useApp((s) => s.info);
  const collapsed = useApp((s) => s.collapsedRoots);
  const toggleRoot = useApp((s) => s.toggleRoot);
  const canRun = info?.allowedControl.includes('agent:run') ?? false;
  const uncaptured = workspace?.panes.filter((p) => !p.captured) ?? [];
  // A store (`loupe serve --store`): machines → roots, and no tmux of our own.
  const fromStore = info?.store !== undefined;

  return (
    <nav className="sidebar" aria-label="Agents">
      <div className="sidebar-head">
        <span className="brand">
          <span className="brand-mark" aria-hidden>◎</span> Loupe
        </span>
        {canRun && (
          <button className="btn btn-small" title="New agent (N)" onClick={() => appStore.getState().setOverlay('newAgent')}>
            + New agent
          </button>
        )}
      </div>
      <div className="sidebar-scroll">
        <NeedsYou />
        <div className="section-title">{fromStore ? 'Machines' : 'Workspaces'}</div>
        {workspace === null && <div className="muted pad">Loading…</div>}
        {workspace?.roots.length === 0 &&
          (fromStore ? (
            <div className="muted pad">Nothing shipped to this store yet. Run `loupe ship --to URL` on a machine with agents.</div>
          ) : (
            <div className="muted pad">No roots open. Start `loupe serve --root DIR`.</div>
          ))}
        {workspace &&
          byMachine(workspace.roots).flatMap(({ machine, roots }) =>
            machine === null
              ? roots.map((root) => <RootNode key={root.root} root={root} open={!collapsed.includes(root.root)} onToggle={() => toggleRoot(root.root)} />)
              : [<MachineNode key={`machine:${machine}`} machine={machine} roots={roots} />],
          )}
        {!fromStore && (
          <>
            <div className="section-title">
              tmux panes not captured <span className="count">{uncaptured.length}</span>
            </div>
            {uncaptured.length === 0 && <div className="muted pad">Every tmux pane is captured.</div>}
            {uncaptured.map((pane) => (
              <PaneRow key={`${pane.socket ?? ''}:${pane.paneId}`} pane={pane} canAttach={info?.allowedControl.includes('capture:attach') ?? false} />
            ))}
          </>
        )}
      </div>
    </nav>
  );
}

/** Roots in their machines' order, grouped by machine (null: a local root). */
function byMachine(roots: WorkspaceRoot[]): { machine: string | null; roots: WorkspaceRoot[] }[] {
  const groups: { machine: string | null; roots: WorkspaceRoot[] }[] = [];
  for (const root of roots) {
    const machine = root.machine ?? null;
    const last = groups.at(-1);
    if (last !== undefined && last.machine === machine) last.roots.push(root);
    else groups.push({ machine, roots: [root] });
  }
  return groups;
}

/** A machine that ships to the store, and its roots. Collapsed machines are kept with the collapsed roots (by name: a root id always holds a `:` or a `/`). */
function MachineNode({ machine, roots }: { machine: string; roots: WorkspaceRoot[] }) {
  const collapsed = useApp((s) => s.collapsedRoots);
  const toggleRoot = useApp((s) => s.toggleRoot);
  const open = !collapsed.includes(machine);
  const agents = roots.reduce((n, r) => n + r.tasks.reduce((m, t) => m + t.agents.length, 0), 0);
  return (
    <div className="tree-machine" data-machine={machine}>
      <button className="tree-row machine-row" aria-expanded={open} title={`${machine}: ${roots.length} ${roots.length === 1 ? 'root' : 'roots'}, ${agents} ${agents === 1 ? 'agent' : 'agents'}`} onClick={() => toggleRoot(machine)}>
        <span className="chevron">{open ? '▾' : '▸'}</span>
        <span className="machine-mark" aria-hidden>▣</span>
        <span className="machine-name">{machine}</span>
        <span className="count">{agents}</span>
      </button>
      {open && roots.map((root) => <RootNode key={root.root} root={root} open={!collapsed.includes(root.root)} onToggle={() => toggleRoot(root.root)} />)}
    </div>
  );
}

function RootNode({ root, open, onToggle }: { root: WorkspaceRoot; open: boolean; onToggle: () => void }) {
  const path = root.path ?? root.root;
  return (
    <div className="tree-root">
      <button className="tree-row root-row" aria-expanded={open} title={root.machine !== undefined ? `${path} on ${root.machine}` : path} onClick={onToggle}>
        <span className="chevron">{open ? '▾' : '▸'}</span>
        <span className="root-name">{baseName(path)}</span>
        <span className="count">{root.tasks.length}</span>
      </button>
      {open && root.tasks.length === 0 && <div className="muted pad-l">No tasks yet. Try `loupe demo`.</div>}
      {open && [...root.tasks].reverse().map((task) => <TaskNode key={task.taskId} task={task} />)}
    </div>
  );
}

function TaskNode({ task }: { task: WorkspaceTask }) {
  const [open, setOpen] = useState(true);
  const errors = task.agents.filter((a) => a.state === 'error').length;
  return (
    <div className="tree-task">
      <div className="task-export-wrap">
        <button className="tree-row task-row" aria-expanded={open} title={task.taskId} onClick={() => setOpen(!open)}>
          <span className="chevron">{open ? '▾' : '▸'}</span>
          <span className="task-name">{taskLabel(task.taskId)}</span>
          {errors > 0 && <span className="badge badge-error">{errors}</span>}
          <span className="count">{task.agents.length}</span>
        </button>
        <button
          className="icon-btn task-export"
          title="Export this task (every agent)"
          aria-label={`Export task ${task.taskId}`}
          onClick={() => openExport({ root: task.root, taskId: task.taskId, agentId: null, agentIds: task.agents.map((a) => a.agentId), paneKey: null })}
        >
          <ExportIcon />
        </button>
      </div>
      {open && task.agents.map((agent) => <AgentRow key={agent.agentId} agent={agent} />)}
    </div>
  );
}

function AgentRow({ agent }: { agent: WorkspaceAgent }) {
  const key = agentKey(agent);
  const isOpen = useApp((s) => s.panes.some((p) => p.key === key));
  const isFocused = useApp((s) => s.focusedKey === key);
  // Printed since you last looked at its pane.
  const unseen = useApp((s) => !isOpen && s.seenEntries[key] !== undefined && agent.entries > s.seenEntries[key]);
  const state = shownState(agent);
  const why = agent.state === 'live' ? `: ${agent.attention.reason}` : '';
  return (
    <button
      className={`tree-row agent-row${isOpen ? ' is-open' : ''}${isFocused ? ' is-focused' : ''}${unseen ? ' has-unseen' : ''}`}
      data-agent={agent.agentId}
      data-state={agent.state}
      data-attention={agent.attention.state}
      title={`${agent.agentId} — ${state}${why}${agent.exitStatus !== null ? `, exit ${agent.exitStatus}` : ''}${unseen ? ' (new output since you looked)' : ''}`}
      onClick={() => appStore.getState().openAgent({ root: agent.root, taskId: agent.taskId, agentId: agent.agentId })}
    >
      <span className={`state-dot state-${agent.state} attention-${agent.attention.state}`} aria-label={state} />
      <span className="agent-name">{agent.agentId}</span>
      {unseen && <span className="unseen-dot" aria-label="new output" />}
      <span className={`state-badge state-${agent.state} attention-${agent.attention.state}`}>{state}</span>
      <span className="count" title={`${agent.entries} entries`}>{formatCount(agent.entries)}</span>
    </button>
  );
}

function PaneRow({ pane, canAttach }: { pane: TmuxPane; canAttach: boolean }) {
  const [busy, setBusy] = useState(false);
  const attach = async () => {
    setBusy(true);
    const s = appStore.getState();
    try {
      const started = await invoke('capture:attach', { target: pane.paneId, ...(pane.socket ? { socket: pane.socket } : {}) });
      s.openAgent({ root: started.root, taskId: started.taskId, agentId: started.agentId });
      s.pushToast({ kind: 'info', title: `Capturing ${pane.session}:${pane.windowIndex}.${pane.paneIndex}`, message: `into ${started.agentId}`, agent: started });
    } catch (err) {
      s.pushToast({ kind: 'error', title: `Could not attach ${pane.paneId}`, message: (err as Error).message, agent: null });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="tree-row pane-row" data-pane={pane.paneId} title={`${pane.socket ? `-L ${pane.socket} ` : ''}${pane.session}:${pane.windowIndex}.${pane.paneIndex} (${pane.paneId})`}>
      <span className="pane-target">
        {pane.session}:{pane.windowIndex}.{pane.paneIndex}
      </span>
      <span className="pane-command">{pane.command}</span>
      {canAttach && (
        <button className="btn btn-tiny" disabled={busy} onClick={() => void attach()}>
          {busy ? '…' : 'Attach'}
        </button>
      )}
    </div>
  );
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.at(-1) ?? path;
}

/** `TASK-20260101-120000-0a1b2c3d` → `Jan 1 12:00:00 · 0a1b`. */
export function taskLabel(taskId: string): string {
  const m = /^TASK-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([0-9a-f]{4})/.exec(taskId);
  if (!m) return taskId;
  const [, y, mo, d, h, mi, s, hex] = m;
  const month = new Date(Number(y), Number(mo) - 1, 1).toLocaleString('en', { month: 'short' });
  return `${month} ${Number(d)} ${h}:${mi}:${s} · ${hex}`;
}
