/** What the UI reads of the agents' attention (SPEC §13). */
import type { AgentRef, Workspace, WorkspaceAgent } from '../../shared/ipc.js';
import { agentKey } from './agentKey.js';

/** The live agents waiting for the user, longest waiting first. */
export function waitingAgents(workspace: Workspace | null): WorkspaceAgent[] {
  const out: WorkspaceAgent[] = [];
  for (const root of workspace?.roots ?? []) for (const task of root.tasks) for (const a of task.agents) if (a.attention.state === 'waiting') out.push(a);
  return out.sort((a, b) => (a.attention.since < b.attention.since ? -1 : a.attention.since > b.attention.since ? 1 : 0));
}

/** The waiting agent after the one with key `current` (the first when none is), or null. */
export function nextWaiting(workspace: Workspace | null, current: string | null): AgentRef | null {
  const waiting = waitingAgents(workspace);
  if (waiting.length === 0) return null;
  const at = waiting.findIndex((a) => agentKey(a) === current);
  const next = waiting[(at + 1) % waiting.length];
  return { root: next.root, taskId: next.taskId, agentId: next.agentId };
}

/** A live agent's state as the sidebar and pane header show it: its attention; else how it ended. */
export function shownState(agent: WorkspaceAgent): string {
  return agent.state === 'live' ? agent.attention.state : agent.state;
}
