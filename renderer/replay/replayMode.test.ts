import { describe, expect, it } from 'vitest';
import type { AgentRef } from '../../shared/ipc.js';
import { agentKey } from '../store/agentKey.js';
import { createAppStore } from '../store/appStore.js';

const agent: AgentRef = { root: '/tmp/root', taskId: 'TASK-20260101-120000-0a1b2c3d', agentId: 'migrate' };
const key = agentKey(agent);

describe('Live and Replay modes of a pane', () => {
  it('a pane opens live, switches to replay at the end of the run, and goes back to live', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent);
    expect(store.getState().panes[0].replay).toBeNull();
    store.getState().openReplay(key);
    expect(store.getState().panes[0].replay).toMatchObject({ seq: null, time: null });
    store.getState().closeReplay(key);
    expect(store.getState().panes[0].replay).toBeNull();
  });

  it('opening an agent at a moment opens its replay there and replaces a filtered view', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent);
    store.getState().setFilter(key, { types: ['stderr'], minLevel: null, grep: '' });
    store.getState().openAgent(agent, { replay: { seq: 42 } });
    const pane = store.getState().panes[0];
    expect(pane.replay).toMatchObject({ seq: 42, time: null });
    expect(pane.filter).toBeNull();
  });

  it('asking for the same moment again is a new request, so the replay seeks again', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent, { replay: { seq: 7 } });
    const first = store.getState().panes[0].replay!.nonce;
    store.getState().openAgent(agent, { replay: { seq: 7 } });
    expect(store.getState().panes[0].replay!.nonce).not.toBe(first);
  });

  it('a moment given by time is kept as time; a sequence wins over a time', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent);
    store.getState().openReplay(key, { time: 1_700_000_000_000_000 });
    expect(store.getState().panes[0].replay).toMatchObject({ seq: null, time: 1_700_000_000_000_000 });
    store.getState().openReplay(key, { seq: 3, time: 5 });
    expect(store.getState().panes[0].replay).toMatchObject({ seq: 3, time: null });
  });
});
