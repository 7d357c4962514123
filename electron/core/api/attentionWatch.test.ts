import { describe, expect, it } from 'vitest';
import type { AgentNotice, Attention, Workspace } from '../../../shared/ipc.js';
import { watchAttention } from './attentionWatch.js';

function workspace(attention: Attention): Workspace {
  const agent = { root: '/r', taskId: 'TASK-20261201-120000-0a1b2c3d', agentId: 'a1', state: 'live' as const, entries: 3, lastActivity: null, cols: 80, rows: 24, exitStatus: null, paneId: '%1', socket: 's', attention };
  return { roots: [{ root: '/r', tasks: [{ root: '/r', taskId: agent.taskId, agents: [agent] }] }], panes: [], tmux: [] } as unknown as Workspace;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('watchAttention', () => {
  it('tells clients about state changes, and sends one waiting notice per question, only after 2 s', async () => {
    const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    let current: Attention = { state: 'working', since: iso(10_000), reason: 'output is arriving', prompt: null };
    const notices: AgentNotice[] = [];
    let changes = 0;
    let looks = 0;
    const watch = watchAttention({
      list: async () => (looks++, workspace(current)),
      changed: () => changes++,
      notice: (n) => notices.push(n),
      pollMs: 10,
    });
    try {
      await until('a look', () => looks > 2);
      expect(changes).toBe(0);
      // An auto-approver answers within 2 s: a change, but no notice.
      current = { state: 'waiting', since: iso(500), reason: 'prompt on screen (rule yes-no)', prompt: 'Proceed? [y/N]' };
      await until('the change', () => changes === 1);
      current = { state: 'working', since: iso(0), reason: 'output is arriving', prompt: null };
      await until('the next change', () => changes === 2);
      expect(notices).toEqual([]);
      // A question that stands: one notice with its text, however many looks see it.
      current = { state: 'waiting', since: iso(3000), reason: 'prompt on screen (rule yes-no)', prompt: 'Deploy to production? [y/N]' };
      await until('the notice', () => notices.length === 1);
      const seen = looks;
      await until('more looks', () => looks > seen + 3);
      expect(notices).toEqual([
        { agent: { root: '/r', taskId: 'TASK-20261201-120000-0a1b2c3d', agentId: 'a1' }, kind: 'waiting', exitStatus: null, message: 'a1 is waiting: Deploy to production? [y/N]' },
      ]);
    } finally {
      watch.dispose();
    }
  });
});
