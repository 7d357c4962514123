/**
 * Attention, live (SPEC §13): the app and `loupe serve` look at every agent's attention once a
 * second (from the workspace listing, which reads the index worker's facts), tell clients when
 * any agent's state changed (`workspace:changed`), and send an `agent:notice` of kind `waiting`
 * with the question when an agent has been waiting for `NOTIFY_AFTER_MS`. A question that an
 * auto-approver answers within that time raises no notice.
 */
import type { AgentNotice, Attention, Workspace } from '../../../shared/ipc.js';

/** How often attention is looked at. */
export const ATTENTION_POLL_MS = 1000;
/** An agent must have been waiting this long before a notice goes out. */
export const NOTIFY_AFTER_MS = 2000;

export interface AttentionWatchOptions {
  list: () => Promise<Workspace>;
  /** Some agent's attention changed: clients re-read the workspace. */
  changed: () => void;
  notice: (notice: AgentNotice) => void;
  log?: (message: string) => void;
  pollMs?: number;
}

export interface AttentionWatch {
  dispose(): void;
}

export function watchAttention(options: AttentionWatchOptions): AttentionWatch {
  /** Each agent's last state, and the `since` of the waiting spell a notice went out for. */
  const last = new Map<string, { state: Attention['state']; since: string }>();
  const noticed = new Map<string, string>();
  let running = false;
  let disposed = false;
  const look = async () => {
    if (running || disposed) return;
    running = true;
    try {
      const workspace = await options.list();
      let changed = false;
      const now = Date.now();
      for (const root of workspace.roots) {
        for (const task of root.tasks) {
          for (const agent of task.agents) {
            const key = `${agent.root}\u0000${agent.taskId}\u0000${agent.agentId}`;
            const { state, since, prompt } = agent.attention;
            const before = last.get(key);
            if (before !== undefined && (before.state !== state || before.since !== since)) changed = true;
            last.set(key, { state, since });
            if (state !== 'waiting' || noticed.get(key) === since || now - Date.parse(since) < NOTIFY_AFTER_MS) continue;
            noticed.set(key, since);
            options.notice({
              agent: { root: agent.root, taskId: agent.taskId, agentId: agent.agentId },
              kind: 'waiting',
              exitStatus: null,
              message: `${agent.agentId} is waiting: ${prompt ?? agent.attention.reason}`,
            });
          }
        }
      }
      if (changed && !disposed) options.changed();
    } catch (err) {
      options.log?.(`cannot look at the agents' attention: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void look(), options.pollMs ?? ATTENTION_POLL_MS);
  timer.unref();
  void look();
  return {
    dispose() {
      disposed = true;
      clearInterval(timer);
    },
  };
}
