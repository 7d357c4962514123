/**
 * What survives a restart: theme, layout, open panes, focus and the sidebar's collapsed roots.
 * Kept in localStorage, which both Electron and the browser have; a corrupt or foreign value is
 * ignored field by field rather than breaking startup.
 */
import type { AgentRef } from '../../shared/ipc.js';
import type { ThemeName } from '../theme.js';

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
}

/** The subset of the Web Storage API this module needs (tests pass a Map-backed one). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const DEFAULT_UI: PersistedUi = { theme: 'dark', layout: 'auto', openAgents: [], focused: null, collapsedRoots: [] };

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
  };
}

export function saveUi(storage: KeyValueStorage | null, ui: PersistedUi): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(ui));
  } catch {
    // Storage full or disabled (private mode): the UI still works, it just won't be remembered.
  }
}
