import { describe, expect, it } from 'vitest';
import type { AgentNotice, Attention, Workspace } from '../../../shared/ipc.js';
import { waitFor } from '../capture/test-support.js';
import { watchAttention } from './attentionWatch.js';

function workspace(attention: Attention): Workspace {
  const agent = { root: '/r', taskId: 'TASK-20261201-120000-0a1b2c3d', agentId: 'a1', state: 'live' as const, entries: 3, lastActivity: null, cols: 80, rows: 24, exitStatus: null, paneId: '%1', socket: 's', attention };
  return { roots: [{ root: '/r', tasks: [{ root: '/r', taskId: agent.taskId, agents: [agent] }] }], panes: [], tmux: [] } as unknown as Workspace;
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
      await waitFor(() => looks > 2, 5000, 'a look');
      expect(changes).toBe(0);
      // An auto-approver answers within 2 s: a change, but no notice.
      current = { state: 'waiting', since: iso(500), reason: 'prompt on screen (rule yes-no)', prompt: 'Proceed? [y/N]' };
      await waitFor(() => changes === 1, 5000, 'the change');
      current = { state: 'working', since: iso(0), reason: 'output is arriving', prompt: null };
      await waitFor(() => changes === 2, 5000, 'the next change');
      expect(notices).toEqual([]);
      // A question that stands: one notice with its text, however many looks see it.
      current = { state: 'waiting', since: iso(3000), reason: 'prompt on screen (rule yes-no)', prompt: 'Deploy to production? [y/N]' };
      await waitFor(() => notices.length === 1, 5000, 'the notice');
      const seen = looks;
      await waitFor(() => looks > seen + 3, 5000, 'more looks');
      expect(notices).toEqual([
        { agent: { root: '/r', taskId: 'TASK-20261201-120000-0a1b2c3d', agentId: 'a1' }, kind: 'waiting', exitStatus: null, message: 'a1 is waiting: Deploy to production? [y/N]' },
      ]);
    } finally {
      watch.dispose();
    }
  });
});
