import type { AgentRef } from '../../shared/ipc.js';

/** A stable string key for an agent's log: the same agent id can occur in several tasks and roots. */
export function agentKey(ref: AgentRef): string {
  return JSON.stringify([ref.root, ref.taskId, ref.agentId]);
}

/** Whether two refs name the same log. */
export function sameAgent(a: AgentRef, b: AgentRef): boolean {
  return a.root === b.root && a.taskId === b.taskId && a.agentId === b.agentId;
}
