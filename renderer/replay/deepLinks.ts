/**
 * Deep links to a moment of a run (shared/deeplink.ts): `#/agent/<id>?seq=N` in the web view's
 * address, and `loupe://agent/<id>?seq=N` handed over by Electron (`app:open-link`). A link with a
 * moment opens the agent's pane in Replay mode there; one without opens it live.
 */
import { parseAgentLink } from '../../shared/deeplink.js';
import { parseTimestamp } from '../../shared/entry.js';
import type { AgentRef, Workspace } from '../../shared/ipc.js';
import { onPush } from '../bridge.js';
import type { AppActions, AppState } from '../store/appStore.js';
import { appStore } from '../store/useApp.js';

/** The agent a link names: in its task if the link says, else in the newest task that has it. */
export function findLinkedAgent(workspace: Workspace, agentId: string, taskId?: string): AgentRef | null {
  let found: AgentRef | null = null;
  for (const root of workspace.roots) {
    for (const task of root.tasks) {
      if (taskId !== undefined && task.taskId !== taskId) continue;
      if (!task.agents.some((a) => a.agentId === agentId)) continue;
      // Task ids start with their creation time (TASK-YYYYMMDD-HHMMSS-…), so the greatest is the newest.
      if (found === null || task.taskId > found.taskId) found = { root: root.root, taskId: task.taskId, agentId };
    }
  }
  return found;
}

/** Opens what a link points at; false when it is not an agent link or names no known agent. */
export function openAgentLink(state: AppState & AppActions, link: string): boolean {
  const parsed = parseAgentLink(link);
  if (parsed === null || state.workspace === null) return false;
  const agent = findLinkedAgent(state.workspace, parsed.agentId, parsed.taskId);
  if (agent === null) {
    state.pushToast({
      kind: 'error',
      title: 'Link not found',
      message: `No agent "${parsed.agentId}"${parsed.taskId ? ` in task ${parsed.taskId}` : ''} in the open roots; open its root to follow this link.`,
      agent: null,
    });
    return false;
  }
  const time = parsed.at !== undefined ? parseTimestamp(parsed.at) : undefined;
  const replay = parsed.seq !== undefined ? { seq: parsed.seq } : time !== undefined ? { time } : undefined;
  state.openAgent(agent, replay ? { replay } : undefined);
  return true;
}

/** Follows the address's link now (once the workspace is known) and on every change; returns the remover. */
export function installDeepLinks(): () => void {
  let waiting: string | null = null;
  const follow = (link: string) => {
    if (parseAgentLink(link) === null) return;
    if (appStore.getState().workspace === null) waiting = link;
    else openAgentLink(appStore.getState(), link);
  };
  const unsubscribe = appStore.subscribe((state) => {
    if (waiting !== null && state.workspace !== null) {
      const link = waiting;
      waiting = null;
      openAgentLink(state, link);
    }
  });
  const onHash = () => follow(location.hash);
  window.addEventListener('hashchange', onHash);
  const stopPush = onPush('app:open-link', ({ link }) => follow(link));
  follow(location.hash);
  return () => {
    unsubscribe();
    stopPush();
    window.removeEventListener('hashchange', onHash);
  };
}
