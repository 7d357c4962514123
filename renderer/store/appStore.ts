/**
 * The UI's state: which agents are open and how they are laid out, each pane's search and filter,
 * the sidebar's workspace, the global search, overlays and toasts. A plain zustand store with no
 * DOM or transport in it, so it is unit-tested under Node; components read it with `useApp`.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EntryType, Level } from '../../shared/entry.js';
import type { AgentRef, AppInfo, RunSummary, SearchResult, Workspace } from '../../shared/ipc.js';
import type { SearchSource } from '../../shared/entry.js';
import { otherTheme, type ThemeName } from '../theme.js';
import { agentKey, sameAgent } from './agentKey.js';
import { MAX_ZOOM_STEPS, MIN_FONT_SIZE_RANGE } from '../terminal/fitTerminal.js';
import { DEFAULT_UI, loadUi, saveUi, type KeyValueStorage, type Layout, type PersistedUi } from './persistence.js';

export type { Layout } from './persistence.js';

/** The in-pane search bar (xterm's search addon does the finding). */
export interface PaneSearch {
  open: boolean;
  term: string;
  regex: boolean;
  caseSensitive: boolean;
  wholeWord: boolean;
  /** 0-based active match, -1 for none. */
  index: number;
  count: number;
}

/** A filtered line view replaces the terminal while set. An empty list or null means "any". */
export interface PaneFilter {
  types: EntryType[];
  /** Keep entries at this level or more severe, like `loupe tail --level`. */
  minLevel: Level | null;
  grep: string;
}

/**
 * A pane in Replay mode and the moment it was asked to show: after entry `seq`, at `time` (µs since
 * the epoch), or the end of the run when both are null. A new request (another search hit, a deep
 * link) gets a new nonce, so the replay seeks again even to the same moment.
 */
export interface ReplayRequest {
  seq: number | null;
  time: number | null;
  nonce: number;
}

/** One open agent pane. */
export interface PaneModel {
  key: string;
  agent: AgentRef;
  search: PaneSearch;
  filter: PaneFilter | null;
  /** The size the agent's terminal was recorded at (from started/resized entries). */
  cols: number | null;
  rows: number | null;
  /** Set while the pane is in Replay mode; null in Live mode. */
  replay: ReplayRequest | null;
}

export type Overlay = 'help' | 'newAgent' | 'export' | null;
export type MainView = 'panes' | 'search';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  title: string;
  message: string;
  agent: AgentRef | null;
}

export interface GlobalSearchState {
  text: string;
  regex: boolean;
  types: EntryType[];
  levels: Level[];
  /** Only terminal runs or only agent transcripts; null: both. */
  source: SearchSource | null;
  loading: boolean;
  error: string | null;
  result: SearchResult | null;
}

/** A link an agent printed that the user clicked; shown in a confirm dialog. */
export interface LinkRequest {
  uri: string;
  /** Set when the link may be opened; otherwise the reason it is refused. */
  url: string | null;
  reason: string | null;
}

export interface AppState {
  theme: ThemeName;
  layout: Layout;
  panes: PaneModel[];
  focusedKey: string | null;
  maximizedKey: string | null;
  collapsedRoots: string[];
  view: MainView;
  overlay: Overlay;
  info: AppInfo | null;
  workspace: Workspace | null;
  summaries: Record<string, RunSummary>;
  globalSearch: GlobalSearchState;
  toasts: Toast[];
  linkRequest: LinkRequest | null;
  connection: 'connecting' | 'open' | 'closed';
  /** The last backend error worth showing (a failed attach, say). */
  error: string | null;
  /**
   * Entries of each agent (by key) the user has seen: counted when its pane is open, and when
   * the agent first shows up. An agent with more entries than that printed since you looked.
   */
  seenEntries: Record<string, number>;
  /** Text size (see terminal/fitTerminal.ts): the readable minimum and the zoom steps. */
  minFontSize: number;
  zoomAll: number;
  paneZoom: Record<string, number>;
}

export interface AppActions {
  /**
   * On a first visit (no pane open), opens the live agents of the newest task that has any, up
   * to the layout's size, instead of an empty grid.
   */
  openLiveAgents(): void;
  /** Opens (or focuses) an agent's pane; `replay` opens it in Replay mode at that moment. */
  openAgent(agent: AgentRef, options?: { replay?: { seq?: number; time?: number } }): void;
  /** Switches a pane to Replay mode at a moment (the end of the run by default). */
  openReplay(key: string, at?: { seq?: number; time?: number }): void;
  /** "Back to live": the pane shows the live terminal again. */
  closeReplay(key: string): void;
  closePane(key: string): void;
  focusPane(key: string): void;
  /** Moves focus by `delta` panes, wrapping around. */
  cycleFocus(delta: number): void;
  toggleMaximize(key?: string): void;
  setLayout(layout: Layout): void;
  /** Zooms one pane (by key) or every pane: +1 larger, -1 smaller, 0 back to the fitted size. */
  zoom(target: { pane: string } | 'all', step: 1 | -1 | 0): void;
  setMinFontSize(size: number): void;
  toggleTheme(): void;
  toggleRoot(root: string): void;
  setView(view: MainView): void;
  setOverlay(overlay: Overlay): void;
  setInfo(info: AppInfo): void;
  setWorkspace(workspace: Workspace): void;
  setSummary(summary: RunSummary): void;
  setPaneSize(key: string, cols: number, rows: number): void;
  openSearch(key: string): void;
  updateSearch(key: string, patch: Partial<Omit<PaneSearch, 'open' | 'index' | 'count'>>): void;
  setSearchResult(key: string, index: number, count: number): void;
  closeSearch(key: string): void;
  setFilter(key: string, filter: PaneFilter | null): void;
  updateGlobalSearch(patch: Partial<GlobalSearchState>): void;
  pushToast(toast: Omit<Toast, 'id'>): void;
  dismissToast(id: number): void;
  setLinkRequest(request: LinkRequest | null): void;
  setConnection(state: AppState['connection']): void;
  setError(message: string | null): void;
}

export type AppStore = StoreApi<AppState & AppActions>;

/** Panes a first visit opens in the auto layout. */
const FIRST_VISIT_PANES = 4;

/** How many toasts stay on screen; older ones make room. */
const MAX_TOASTS = 4;

const CLOSED_SEARCH: PaneSearch = { open: false, term: '', regex: false, caseSensitive: false, wholeWord: false, index: -1, count: 0 };

function newPane(agent: AgentRef): PaneModel {
  return { key: agentKey(agent), agent, search: { ...CLOSED_SEARCH }, filter: null, cols: null, rows: null, replay: null };
}

/** The panes the grid shows: the maximized one, or the page of the layout that holds the focused pane. */
export function visiblePanes(state: Pick<AppState, 'panes' | 'layout' | 'focusedKey' | 'maximizedKey'>): PaneModel[] {
  const { panes, layout, focusedKey, maximizedKey } = state;
  const maximized = panes.find((p) => p.key === maximizedKey);
  if (maximized) return [maximized];
  if (layout === 'auto') return panes;
  const focusedIndex = Math.max(0, panes.findIndex((p) => p.key === focusedKey));
  const page = Math.floor(focusedIndex / layout);
  return panes.slice(page * layout, page * layout + layout);
}

/** Pixels of a pane that are not terminal: header, status line, borders, padding, grid gap. */
const PANE_CHROME = { width: 16, height: 68 };
/** A terminal cell per px of font size (the monospace fonts of shared/fonts.ts at line height 1.1). */
const CELL_PER_PX = { width: 0.6, height: 1.2 };

/** Roughly the font size (px) at which a cols × rows terminal fills a width × height cell. */
function fittingFontSize(terminal: { cols: number; rows: number }, width: number, height: number): number {
  return Math.min((width - PANE_CHROME.width) / (terminal.cols * CELL_PER_PX.width), (height - PANE_CHROME.height) / (terminal.rows * CELL_PER_PX.height));
}

/**
 * Grid columns and rows for the panes on screen (their terminal sizes) in a grid area. Layout 1
 * is one pane; 2, 4 and auto take the arrangement (side by side, stacked, or a grid) in which the
 * smallest text is largest, preferring the usual one (2: side by side, 4: 2 × 2, auto: square)
 * unless another is clearly better. Wide agents in two panes are stacked, for example.
 */
export function gridShape(layout: Layout, terminals: { cols: number; rows: number }[], area: { width: number; height: number } | null): { columns: number; rows: number } {
  const count = terminals.length;
  if (count <= 1 || layout === 1) return { columns: 1, rows: 1 };
  const usualColumns = layout === 'auto' ? Math.ceil(Math.sqrt(count)) : Math.min(count, 2);
  const shape = (columns: number) => ({ columns, rows: Math.ceil(count / columns) });
  if (area === null) return shape(usualColumns);
  const smallestText = (columns: number) => {
    const { rows } = shape(columns);
    return Math.min(...terminals.map((t) => fittingFontSize(t, area.width / columns, area.height / rows)));
  };
  let best = usualColumns;
  for (let columns = 1; columns <= count; columns++) {
    if (columns > 1 && Math.ceil(count / (columns - 1)) === shape(columns).rows) continue; // same rows, narrower panes
    if (smallestText(columns) > smallestText(best) * 1.1) best = columns;
  }
  return shape(best);
}

/** The state worth keeping across restarts. */
export function persistedPart(state: AppState): PersistedUi {
  const focused = state.panes.find((p) => p.key === state.focusedKey)?.agent ?? null;
  const open = new Set(state.panes.map((p) => p.key));
  return {
    theme: state.theme,
    layout: state.layout,
    openAgents: state.panes.map((p) => p.agent),
    focused,
    collapsedRoots: state.collapsedRoots,
    minFontSize: state.minFontSize,
    zoomAll: state.zoomAll,
    // Zoom of closed panes is forgotten with them.
    paneZoom: Object.fromEntries(Object.entries(state.paneZoom).filter(([key]) => open.has(key))),
  };
}

/**
 * Creates the store, restoring the saved UI from `storage` and saving it back on every change.
 * Pass null to keep nothing (tests that don't care about persistence).
 */
export function createAppStore(storage: KeyValueStorage | null): AppStore {
  const saved = storage ? loadUi(storage) : { ...DEFAULT_UI };
  const panes = saved.openAgents.map(newPane);
  const focusedKey = saved.focused ? agentKey(saved.focused) : (panes[0]?.key ?? null);

  const store = createStore<AppState & AppActions>()((set, get) => {
    const updatePane = (key: string, update: (pane: PaneModel) => PaneModel) =>
      set((s) => ({ panes: s.panes.map((p) => (p.key === key ? update(p) : p)) }));
    let toastId = 0;
    let replayNonce = 0;
    const replayRequest = (at?: { seq?: number; time?: number }): ReplayRequest => ({
      seq: at?.seq ?? null,
      time: at?.seq === undefined ? (at?.time ?? null) : null,
      nonce: ++replayNonce,
    });

    return {
      theme: saved.theme,
      layout: saved.layout,
      panes,
      focusedKey: panes.some((p) => p.key === focusedKey) ? focusedKey : (panes[0]?.key ?? null),
      maximizedKey: null,
      collapsedRoots: saved.collapsedRoots,
      view: 'panes',
      overlay: null,
      info: null,
      workspace: null,
      summaries: {},
      globalSearch: { text: '', regex: false, types: [], levels: [], source: null, loading: false, error: null, result: null },
      toasts: [],
      linkRequest: null,
      connection: 'connecting',
      error: null,
      seenEntries: {},
      minFontSize: saved.minFontSize,
      zoomAll: saved.zoomAll,
      paneZoom: saved.paneZoom,

      openLiveAgents() {
        const { panes, workspace, layout } = get();
        if (panes.length > 0 || workspace === null) return;
        const tasks = workspace.roots.flatMap((r) => r.tasks).sort((a, b) => (a.taskId < b.taskId ? 1 : -1));
        const live = tasks.map((t) => t.agents.filter((a) => a.state === 'live')).find((agents) => agents.length > 0) ?? [];
        const fits = live.slice(0, layout === 'auto' ? FIRST_VISIT_PANES : layout);
        if (fits.length === 0) return;
        const opened = fits.map((a) => newPane({ root: a.root, taskId: a.taskId, agentId: a.agentId }));
        // The view stays: a user who opened Search while the first listing was on its way keeps it.
        set({ panes: opened, focusedKey: opened[0].key, maximizedKey: null });
      },

      openAgent(agent, options) {
        const key = agentKey(agent);
        const replay = options?.replay ? replayRequest(options.replay) : null;
        // A replay shows the terminal at a moment, so it replaces the filtered view.
        set((s) => {
          const exists = s.panes.some((p) => p.key === key);
          const panes = exists
            ? s.panes.map((p) => (p.key === key ? { ...p, replay: replay ?? p.replay, filter: replay ? null : p.filter } : p))
            : [...s.panes, { ...newPane(agent), replay }];
          // Keep a maximized pane only if it is the one being opened.
          const maximizedKey = s.maximizedKey === key ? key : null;
          return { panes, focusedKey: key, maximizedKey, view: 'panes' };
        });
      },

      openReplay(key, at) {
        updatePane(key, (p) => ({ ...p, replay: replayRequest(at), filter: null }));
        set({ focusedKey: key });
      },

      closeReplay(key) {
        updatePane(key, (p) => (p.replay === null ? p : { ...p, replay: null }));
      },

      closePane(key) {
        set((s) => {
          const index = s.panes.findIndex((p) => p.key === key);
          if (index < 0) return {};
          const panes = s.panes.filter((p) => p.key !== key);
          const focusedKey = s.focusedKey === key ? (panes[Math.min(index, panes.length - 1)]?.key ?? null) : s.focusedKey;
          return { panes, focusedKey, maximizedKey: s.maximizedKey === key ? null : s.maximizedKey };
        });
      },

      focusPane(key) {
        if (get().panes.some((p) => p.key === key)) set({ focusedKey: key });
      },

      cycleFocus(delta) {
        const { panes, focusedKey, maximizedKey } = get();
        if (panes.length === 0) return;
        const index = panes.findIndex((p) => p.key === focusedKey);
        const next = panes[(((index < 0 ? 0 : index + delta) % panes.length) + panes.length) % panes.length];
        set({ focusedKey: next.key, maximizedKey: maximizedKey === null ? null : next.key });
      },

      toggleMaximize(key) {
        const target = key ?? get().focusedKey;
        if (target === null) return;
        set((s) => (s.maximizedKey === target ? { maximizedKey: null } : { maximizedKey: target, focusedKey: target }));
      },

      setLayout(layout) {
        set({ layout, maximizedKey: null });
      },

      zoom(target, step) {
        const next = (steps: number) => (step === 0 ? 0 : Math.max(-MAX_ZOOM_STEPS, Math.min(MAX_ZOOM_STEPS, steps + step)));
        if (target === 'all') {
          // Zooming all panes starts them all from the same size again.
          set((s) => ({ zoomAll: next(s.zoomAll), paneZoom: {} }));
          return;
        }
        set((s) => {
          const { [target.pane]: current = 0, ...others } = s.paneZoom;
          const steps = next(current);
          return { paneZoom: steps === 0 ? others : { ...others, [target.pane]: steps } };
        });
      },

      setMinFontSize(size) {
        if (Number.isFinite(size)) set({ minFontSize: Math.max(MIN_FONT_SIZE_RANGE.min, Math.min(MIN_FONT_SIZE_RANGE.max, Math.round(size))) });
      },

      toggleTheme() {
        set((s) => ({ theme: otherTheme(s.theme) }));
      },

      toggleRoot(root) {
        set((s) => ({
          collapsedRoots: s.collapsedRoots.includes(root) ? s.collapsedRoots.filter((r) => r !== root) : [...s.collapsedRoots, root],
        }));
      },

      setView(view) {
        set({ view });
      },

      setOverlay(overlay) {
        set({ overlay });
      },

      setInfo(info) {
        set({ info });
      },

      setWorkspace(workspace) {
        set((s) => {
          const open = new Set(s.panes.map((p) => p.key));
          const seenEntries = { ...s.seenEntries };
          for (const root of workspace.roots) {
            for (const task of root.tasks) {
              for (const agent of task.agents) {
                const key = agentKey(agent);
                if (open.has(key) || seenEntries[key] === undefined) seenEntries[key] = agent.entries;
              }
            }
          }
          return { workspace, seenEntries };
        });
      },

      setSummary(summary) {
        set((s) => ({ summaries: { ...s.summaries, [agentKey(summary)]: summary } }));
      },

      setPaneSize(key, cols, rows) {
        updatePane(key, (p) => (p.cols === cols && p.rows === rows ? p : { ...p, cols, rows }));
      },

      openSearch(key) {
        updatePane(key, (p) => ({ ...p, search: { ...p.search, open: true } }));
        set({ focusedKey: key });
      },

      updateSearch(key, patch) {
        updatePane(key, (p) => ({ ...p, search: { ...p.search, ...patch } }));
      },

      setSearchResult(key, index, count) {
        updatePane(key, (p) => (p.search.index === index && p.search.count === count ? p : { ...p, search: { ...p.search, index, count } }));
      },

      closeSearch(key) {
        updatePane(key, (p) => ({ ...p, search: { ...p.search, open: false, index: -1, count: 0 } }));
      },

      setFilter(key, filter) {
        updatePane(key, (p) => ({ ...p, filter }));
      },

      updateGlobalSearch(patch) {
        set((s) => ({ globalSearch: { ...s.globalSearch, ...patch } }));
      },

      pushToast(toast) {
        set((s) => ({ toasts: [...s.toasts, { ...toast, id: ++toastId }].slice(-MAX_TOASTS) }));
      },

      dismissToast(id) {
        set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
      },

      setLinkRequest(linkRequest) {
        set({ linkRequest });
      },

      setConnection(connection) {
        set({ connection });
      },

      setError(error) {
        set({ error });
      },
    };
  });

  if (storage) {
    let last = JSON.stringify(persistedPart(store.getState()));
    store.subscribe((state) => {
      const next = persistedPart(state);
      const json = JSON.stringify(next);
      if (json === last) return;
      last = json;
      saveUi(storage, next);
    });
  }
  return store;
}

/** Whether an agent is open in a pane. */
export function isOpen(state: Pick<AppState, 'panes'>, agent: AgentRef): boolean {
  return state.panes.some((p) => sameAgent(p.agent, agent));
}
