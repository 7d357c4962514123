/**
 * What survives a restart: theme, layout, open panes, focus, the sidebar's collapsed roots and
 * text size (the readable minimum, zoom of all panes and of each).
 * Kept in localStorage, which both Electron and the browser have; a corrupt or foreign value is
 * ignored field by field rather than breaking startup.
 */
import type { AgentRef } from '../../shared/ipc.js';
import type { ThemeName } from '../theme.js';
import { DEFAULT_MIN_FONT_SIZE, MAX_ZOOM_STEPS, MIN_FONT_SIZE_RANGE } from '../terminal/fitTerminal.js';

/** Bump when the shape changes incompatibly; old values are then ignored. */
export const STORAGE_KEY = 'loupe.ui.v1';

export type Layout = 'auto' | 1 | 2 | 4;
export const LAYOUTS: readonly Layout[] = [1, 2, 4, 'auto'];

export interface PersistedUi {
  theme: ThemeName;
  layout: Layout;
  openAgents: AgentRef[];
  focused: AgentRef | null;
  collapsedRoots: string[];
  /** The smallest font size panes fit to (px); below it they scroll. */
  minFontSize: number;
  /** Zoom steps of every pane. */
  zoomAll: number;
  /** Zoom steps of single panes, by agent key, on top of `zoomAll`. */
  paneZoom: Record<string, number>;
}

/** The subset of the Web Storage API this module needs (tests pass a Map-backed one). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const DEFAULT_UI: PersistedUi = {
  theme: 'dark',
  layout: 'auto',
  openAgents: [],
  focused: null,
  collapsedRoots: [],
  minFontSize: DEFAULT_MIN_FONT_SIZE,
  zoomAll: 0,
  paneZoom: {},
};

const isZoom = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) <= MAX_ZOOM_STEPS;

function paneZoomOf(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => isZoom(v) && v !== 0));
}

function isRef(value: unknown): value is AgentRef {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && typeof v.root === 'string' && typeof v.taskId === 'string' && typeof v.agentId === 'string';
}

/** Reads the saved UI state, falling back to defaults for anything missing or malformed. */
export function loadUi(storage: KeyValueStorage | null): PersistedUi {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return { ...DEFAULT_UI };
  }
  const v = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    theme: v.theme === 'light' || v.theme === 'dark' ? v.theme : DEFAULT_UI.theme,
    layout: LAYOUTS.includes(v.layout as Layout) ? (v.layout as Layout) : DEFAULT_UI.layout,
    openAgents: Array.isArray(v.openAgents) ? v.openAgents.filter(isRef).map(({ root, taskId, agentId }) => ({ root, taskId, agentId })) : [],
    focused: isRef(v.focused) ? { root: v.focused.root, taskId: v.focused.taskId, agentId: v.focused.agentId } : null,
    collapsedRoots: Array.isArray(v.collapsedRoots) ? v.collapsedRoots.filter((r): r is string => typeof r === 'string') : [],
    minFontSize:
      typeof v.minFontSize === 'number' && v.minFontSize >= MIN_FONT_SIZE_RANGE.min && v.minFontSize <= MIN_FONT_SIZE_RANGE.max
        ? v.minFontSize
        : DEFAULT_UI.minFontSize,
    zoomAll: isZoom(v.zoomAll) ? v.zoomAll : 0,
    paneZoom: paneZoomOf(v.paneZoom),
  };
}

export function saveUi(storage: KeyValueStorage | null, ui: PersistedUi): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(ui));
  } catch {
    // Storage full or disabled (private mode): the UI still works, it just won't be remembered.
  }
}
