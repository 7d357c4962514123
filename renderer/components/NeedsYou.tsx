/**
 * "Needs you" (SPEC §13): the agents waiting for the user, with their question and how long they
 * have waited, at the top of the sidebar, so nobody has to open panes to find out.
 */
import { useEffect, useState } from 'react';
import type { WorkspaceAgent } from '../../shared/ipc.js';
import { appStore, useApp } from '../store/useApp.js';
import { waitingAgents } from '../store/attention.js';

/** Lines of a question shown in the group; the rest is in the pane (and the tooltip). */
const QUESTION_LINES = 4;

export function NeedsYou() {
  const workspace = useApp((s) => s.workspace);
  const waiting = waitingAgents(workspace);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (waiting.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [waiting.length]);
  if (waiting.length === 0) return null;
  return (
    <section className="needs-you" aria-label="Agents that need you">
      <div className="section-title needs-you-title">
        Needs you <span className="badge badge-waiting">{waiting.length}</span>
        <NotifyButton />
      </div>
      {waiting.map((agent) => (
        <WaitingRow key={`${agent.root}/${agent.taskId}/${agent.agentId}`} agent={agent} now={now} />
      ))}
    </section>
  );
}

function WaitingRow({ agent, now }: { agent: WorkspaceAgent; now: number }) {
  const prompt = agent.attention.prompt ?? agent.attention.reason;
  const lines = prompt.split('\n');
  return (
    <button
      className="needs-you-row"
      data-agent={agent.agentId}
      title={prompt}
      onClick={() => appStore.getState().openAgent({ root: agent.root, taskId: agent.taskId, agentId: agent.agentId })}
    >
      <span className="needs-you-head">
        <span className="state-dot state-live attention-waiting" aria-hidden />
        <span className="agent-name">{agent.agentId}</span>
        <span className="muted needs-you-since">waiting {waitedFor(now - Date.parse(agent.attention.since))}</span>
      </span>
      <span className="needs-you-question">
        {lines.slice(0, QUESTION_LINES).join('\n')}
        {lines.length > QUESTION_LINES ? '\n…' : ''}
      </span>
    </button>
  );
}

/** In a browser, notifications need the user's permission, asked for from a click. */
function NotifyButton() {
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'denied' : Notification.permission);
  if (window.loupe !== undefined || permission !== 'default') return null; // the desktop app notifies by itself
  return (
    <button className="btn btn-tiny" title="Show a notification when an agent needs you" onClick={() => void Notification.requestPermission().then(setPermission)}>
      Notify me
    </button>
  );
}

export function waitedFor(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
