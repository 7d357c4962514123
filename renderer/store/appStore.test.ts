import { describe, expect, it } from 'vitest';
import type { AgentRef, WorkspaceAgent } from '../../shared/ipc.js';
import { agentKey } from './agentKey.js';
import { createAppStore, gridShape, visiblePanes } from './appStore.js';
import { STORAGE_KEY, type KeyValueStorage } from './persistence.js';

const agent = (agentId: string, taskId = 'TASK-20260101-120000-0a1b2c3d'): AgentRef => ({ root: '/tmp/root', taskId, agentId });

function memoryStorage(initial: Record<string, string> = {}): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('app store', () => {
  it('opening an agent adds one pane and focuses it; opening it again does not duplicate it', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent('a'));
    store.getState().openAgent(agent('b'));
    store.getState().openAgent(agent('a'));
    const s = store.getState();
    expect(s.panes.map((p) => p.agent.agentId)).toEqual(['a', 'b']);
    expect(s.focusedKey).toBe(agentKey(agent('a')));
  });

  it('the same agent id in two tasks opens two panes', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent('a', 'TASK-20260101-120000-00000001'));
    store.getState().openAgent(agent('a', 'TASK-20260101-120000-00000002'));
    expect(store.getState().panes).toHaveLength(2);
  });

  it('closing the focused pane focuses its neighbour and clears maximize', () => {
    const store = createAppStore(null);
    for (const id of ['a', 'b', 'c']) store.getState().openAgent(agent(id));
    store.getState().focusPane(agentKey(agent('b')));
    store.getState().toggleMaximize();
    expect(store.getState().maximizedKey).toBe(agentKey(agent('b')));
    store.getState().closePane(agentKey(agent('b')));
    expect(store.getState().focusedKey).toBe(agentKey(agent('c')));
    expect(store.getState().maximizedKey).toBeNull();
  });

  it('cycling focus wraps around in both directions', () => {
    const store = createAppStore(null);
    for (const id of ['a', 'b', 'c']) store.getState().openAgent(agent(id));
    store.getState().cycleFocus(1);
    expect(store.getState().focusedKey).toBe(agentKey(agent('a')));
    store.getState().cycleFocus(-1);
    expect(store.getState().focusedKey).toBe(agentKey(agent('c')));
  });

  it('a layout shows the page of panes that holds the focused pane', () => {
    const store = createAppStore(null);
    for (const id of ['a', 'b', 'c', 'd', 'e']) store.getState().openAgent(agent(id));
    store.getState().setLayout(2);
    store.getState().focusPane(agentKey(agent('d')));
    expect(visiblePanes(store.getState()).map((p) => p.agent.agentId)).toEqual(['c', 'd']);
    store.getState().setLayout(4);
    expect(visiblePanes(store.getState()).map((p) => p.agent.agentId)).toEqual(['a', 'b', 'c', 'd']);
    store.getState().setLayout(1);
    expect(visiblePanes(store.getState()).map((p) => p.agent.agentId)).toEqual(['d']);
    store.getState().setLayout('auto');
    expect(visiblePanes(store.getState())).toHaveLength(5);
    store.getState().toggleMaximize(agentKey(agent('e')));
    expect(visiblePanes(store.getState()).map((p) => p.agent.agentId)).toEqual(['e']);
  });

  it('before the grid is measured, the auto grid is as square as possible', () => {
    const terminals = (n: number) => Array.from({ length: n }, () => ({ cols: 80, rows: 24 }));
    expect(gridShape('auto', terminals(1), null)).toEqual({ columns: 1, rows: 1 });
    expect(gridShape('auto', terminals(4), null)).toEqual({ columns: 2, rows: 2 });
    expect(gridShape('auto', terminals(5), null)).toEqual({ columns: 3, rows: 2 });
    expect(gridShape('auto', terminals(20), null)).toEqual({ columns: 5, rows: 4 });
    expect(gridShape(2, terminals(2), null)).toEqual({ columns: 2, rows: 1 });
    expect(gridShape(1, terminals(3), null)).toEqual({ columns: 1, rows: 1 });
  });

  it('layouts take the arrangement with the largest text', () => {
    const laptop = { width: 1090, height: 770 }; // the grid of a 1360 × 820 window
    const wide = { cols: 120, rows: 32 };
    const classic = { cols: 80, rows: 24 };
    // Two 80 × 24 agents fit side by side; two 120-column agents read better stacked.
    expect(gridShape(2, [classic, classic], laptop)).toEqual({ columns: 2, rows: 1 });
    expect(gridShape(2, [wide, wide], laptop)).toEqual({ columns: 1, rows: 2 });
    // Four stay 2 × 2 on a 1920 × 1080 screen; three tall-and-narrow agents go side by side.
    expect(gridShape(4, [classic, classic, classic, classic], { width: 1650, height: 1030 })).toEqual({ columns: 2, rows: 2 });
    expect(gridShape('auto', [{ cols: 60, rows: 50 }, { cols: 60, rows: 50 }, { cols: 60, rows: 50 }], laptop)).toEqual({ columns: 3, rows: 1 });
    // Wide agents on a wide screen: 200 columns stack even on 2560 × 1440.
    expect(gridShape(2, [{ cols: 200, rows: 50 }, { cols: 200, rows: 50 }], { width: 2290, height: 1390 })).toEqual({ columns: 1, rows: 2 });
  });

  it('the first listing opens the live agents without taking the user away from a view they already chose', () => {
    const store = createAppStore(null);
    store.getState().setView('search');
    const live: WorkspaceAgent = {
      ...agent('a'),
      state: 'live',
      entries: 3,
      lastActivity: null,
      cols: 80,
      rows: 24,
      exitStatus: null,
      paneId: '%1',
      socket: null,
      attention: { state: 'working', since: '2026-01-01T12:00:00Z', reason: 'output', prompt: null },
    };
    store.getState().setWorkspace({ roots: [{ root: '/tmp/root', tasks: [{ root: '/tmp/root', taskId: live.taskId, agents: [live] }] }], panes: [] });
    store.getState().openLiveAgents();
    expect(store.getState().panes.map((p) => p.agent.agentId)).toEqual(['a']);
    expect(store.getState().view).toBe('search');
  });

  it('search and filter state are kept per pane', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent('a'));
    store.getState().openAgent(agent('b'));
    const a = agentKey(agent('a'));
    store.getState().openSearch(a);
    store.getState().updateSearch(a, { term: 'err', regex: true });
    store.getState().setSearchResult(a, 2, 7);
    store.getState().setFilter(agentKey(agent('b')), { types: ['stderr'], minLevel: null, grep: '' });
    const [pa, pb] = store.getState().panes;
    expect(pa.search).toMatchObject({ open: true, term: 'err', regex: true, index: 2, count: 7 });
    expect(pa.filter).toBeNull();
    expect(pb.search.open).toBe(false);
    expect(pb.filter?.types).toEqual(['stderr']);
    store.getState().closeSearch(a);
    expect(store.getState().panes[0].search).toMatchObject({ open: false, term: 'err', count: 0 });
  });

  it('opening an agent in Replay mode at a hit clears its filter so the terminal shows the moment', () => {
    const store = createAppStore(null);
    store.getState().openAgent(agent('a'));
    const a = agentKey(agent('a'));
    store.getState().setFilter(a, { types: ['stderr'], minLevel: null, grep: '' });
    store.getState().setView('search');
    store.getState().openAgent(agent('a'), { replay: { seq: 42 } });
    const pane = store.getState().panes[0];
    expect(pane.filter).toBeNull();
    expect(pane.replay).toMatchObject({ seq: 42, time: null });
    expect(store.getState().view).toBe('panes');
    // The same hit clicked again seeks again: a new request, not the same one.
    const first = pane.replay!.nonce;
    store.getState().openAgent(agent('a'), { replay: { seq: 42 } });
    expect(store.getState().panes[0].replay!.nonce).not.toBe(first);
    // Opening without a moment keeps the pane's replay and filter as they are.
    store.getState().setFilter(a, { types: ['stderr'], minLevel: null, grep: '' });
    store.getState().openAgent(agent('a'));
    expect(store.getState().panes[0].replay).toMatchObject({ seq: 42 });
    expect(store.getState().panes[0].filter?.types).toEqual(['stderr']);
  });

  it('layout, theme, open panes, focus and collapsed roots survive a restart', () => {
    const storage = memoryStorage();
    const first = createAppStore(storage);
    first.getState().openAgent(agent('a'));
    first.getState().openAgent(agent('b'));
    first.getState().focusPane(agentKey(agent('a')));
    first.getState().setLayout(2);
    first.getState().toggleTheme();
    first.getState().toggleRoot('/tmp/root');
    first.getState().setFilter(agentKey(agent('a')), { types: ['stderr'], minLevel: null, grep: '' });

    const second = createAppStore(storage).getState();
    expect(second.panes.map((p) => p.agent.agentId)).toEqual(['a', 'b']);
    expect(second.focusedKey).toBe(agentKey(agent('a')));
    expect(second.layout).toBe(2);
    expect(second.theme).toBe('light');
    expect(second.collapsedRoots).toEqual(['/tmp/root']);
    expect(second.panes[0].filter).toBeNull(); // filters are per session, not saved
  });

  it('text size survives a restart: the minimum, the zoom of all panes and of each open pane', () => {
    const storage = memoryStorage();
    const first = createAppStore(storage).getState();
    first.openAgent(agent('a'));
    first.openAgent(agent('b'));
    first.setMinFontSize(14);
    first.zoom('all', 1);
    first.zoom({ pane: agentKey(agent('a')) }, 1);
    first.zoom({ pane: agentKey(agent('a')) }, 1);
    first.zoom({ pane: agentKey(agent('b')) }, -1);
    first.closePane(agentKey(agent('b'))); // a closed pane's zoom is forgotten

    const second = createAppStore(storage).getState();
    expect(second.minFontSize).toBe(14);
    expect(second.zoomAll).toBe(1);
    expect(second.paneZoom).toEqual({ [agentKey(agent('a'))]: 2 });
    second.zoom({ pane: agentKey(agent('a')) }, 0);
    expect(createAppStore(storage).getState().paneZoom).toEqual({});
    // Zooming all panes starts them from one size again.
    second.zoom({ pane: agentKey(agent('a')) }, 1);
    second.zoom('all', -1);
    expect(createAppStore(storage).getState()).toMatchObject({ zoomAll: 0, paneZoom: {} });
  });

  it('a saved text size out of range falls back to the default', () => {
    const odd = createAppStore(memoryStorage({ [STORAGE_KEY]: JSON.stringify({ minFontSize: 2, zoomAll: 1.5, paneZoom: { a: 99, b: 'x', c: 3 } }) })).getState();
    expect(odd.minFontSize).toBe(11);
    expect(odd.zoomAll).toBe(0);
    expect(odd.paneZoom).toEqual({ c: 3 });
  });

  it('a corrupt or foreign saved state falls back to defaults instead of failing', () => {
    const broken = createAppStore(memoryStorage({ [STORAGE_KEY]: '{not json' })).getState();
    expect(broken.panes).toEqual([]);
    expect(broken.theme).toBe('dark');
    const odd = createAppStore(
      memoryStorage({ [STORAGE_KEY]: JSON.stringify({ layout: 3, theme: 'neon', openAgents: [{ agentId: 1 }, agent('ok')] }) }),
    ).getState();
    expect(odd.layout).toBe('auto');
    expect(odd.theme).toBe('dark');
    expect(odd.panes.map((p) => p.agent.agentId)).toEqual(['ok']);
  });

  it('keeps at most four toasts, newest last', () => {
    const store = createAppStore(null);
    for (let i = 1; i <= 6; i++) store.getState().pushToast({ kind: 'info', title: `t${i}`, message: '', agent: null });
    expect(store.getState().toasts.map((t) => t.title)).toEqual(['t3', 't4', 't5', 't6']);
    store.getState().dismissToast(store.getState().toasts[0].id);
    expect(store.getState().toasts).toHaveLength(3);
  });
});
