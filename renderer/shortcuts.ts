/**
 * Every action has a keyboard shortcut; this table drives both the key handler and the `?` help
 * overlay, so the two never disagree. Single-key shortcuts only fire when the user is not typing
 * in a field (xterm's hidden textarea does not count: panes take no input).
 */
import type { AppActions, AppState, PaneFilter } from './store/appStore.js';
import { nextWaiting } from './store/attention.js';
import { appStore } from './store/useApp.js';
import { replayFor } from './replay/replayController.js';
import { controllerFor } from './terminal/paneRegistry.js';
import { openPaneExport } from './export/exportTarget.js';

export interface Shortcut {
  /** Key combos as shown in help, e.g. `Ctrl+F`, `?`, `Shift+F3`. The first one is the main one. */
  keys: string[];
  description: string;
  group: 'Panes' | 'Replay' | 'Find and filter' | 'App';
  /** Fires even while typing in a field. */
  global?: boolean;
  /** Only then does the shortcut apply (otherwise the key goes to the next shortcut that has it). */
  when?: (state: AppState) => boolean;
  run(state: AppState & AppActions): void;
}

const focused = (s: AppState) => s.panes.find((p) => p.key === s.focusedKey) ?? null;

/** The lines the status line counts as errors: screen lines at level error or above, of any type. */
const ERRORS_ONLY: PaneFilter = { types: [], minLevel: 'error', grep: '' };

function findInFocused(s: AppState & AppActions, direction: 'next' | 'previous') {
  const pane = focused(s);
  if (!pane) return;
  if (!pane.search.open || pane.search.term === '') return s.openSearch(pane.key);
  controllerFor(pane.key)?.find(pane.search, direction);
}

/** The replay of the focused pane, when it is in Replay mode. */
const inReplay = (s: AppState) => focused(s)?.replay != null;
function withReplay(s: AppState, action: (replay: NonNullable<ReturnType<typeof replayFor>>) => void): void {
  const pane = focused(s);
  const replay = pane ? replayFor(pane.key) : undefined;
  if (replay) action(replay);
}

/** Replay keys come first: in a replayed pane they take over keys the pane grid uses otherwise. */
const REPLAY_SHORTCUTS: Shortcut[] = [
  { keys: [' '], description: 'Play or pause', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.togglePlay()) },
  { keys: ['ArrowRight'], description: 'Step forward one entry', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => void r.stepForward()) },
  { keys: ['ArrowLeft'], description: 'Step back one entry', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.stepBack()) },
  { keys: ['ArrowUp'], description: 'Play faster (up to 32×)', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.changeSpeed(1)) },
  { keys: ['ArrowDown'], description: 'Play slower (down to 0.25×)', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.changeSpeed(-1)) },
  { keys: [']'], description: 'Next error', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.jumpToError(1)) },
  { keys: ['['], description: 'Previous error', group: 'Replay', when: inReplay, run: (s) => withReplay(s, (r) => r.jumpToError(-1)) },
  ...Array.from({ length: 10 }, (_, d): Shortcut => ({
    keys: [String(d)],
    description: `Jump to ${d * 10}% of the run`,
    group: 'Replay',
    when: inReplay,
    run: (s) => withReplay(s, (r) => r.jumpToFraction(d / 10)),
  })),
  { keys: ['L'], description: 'Back to live', group: 'Replay', when: inReplay, run: (s) => { const p = focused(s); if (p) s.closeReplay(p.key); } },
];

export const SHORTCUTS: Shortcut[] = [
  ...REPLAY_SHORTCUTS,
  { keys: ['R'], description: 'Replay the focused pane’s run, or back to live', group: 'Panes', run: (s) => { const p = focused(s); if (p) (p.replay ? s.closeReplay(p.key) : s.openReplay(p.key)); } },
  { keys: ['?'], description: 'Show or hide this help', group: 'App', run: (s) => s.setOverlay(s.overlay === 'help' ? null : 'help') },
  { keys: ['Ctrl+F', '/'], description: 'Find in the focused pane', group: 'Find and filter', global: true, run: (s) => { const p = focused(s); if (p) s.openSearch(p.key); } },
  { keys: ['F3', 'Enter'], description: 'Next match (Enter in the find box)', group: 'Find and filter', global: true, run: (s) => findInFocused(s, 'next') },
  { keys: ['Shift+F3', 'Shift+Enter'], description: 'Previous match', group: 'Find and filter', global: true, run: (s) => findInFocused(s, 'previous') },
  { keys: ['F'], description: 'Filter the focused pane (type, level, regex)', group: 'Find and filter', run: (s) => { const p = focused(s); if (p) s.setFilter(p.key, p.filter ?? { types: [], minLevel: null, grep: '' }); } },
  { keys: ['E'], description: 'Show only error lines (level error or above: the ones the status line counts), or back', group: 'Find and filter', run: (s) => { const p = focused(s); if (p) s.setFilter(p.key, p.filter ? null : ERRORS_ONLY); } },
  { keys: ['Ctrl+Shift+F', 'S'], description: 'Search all agents and runs', group: 'Find and filter', global: true, run: (s) => s.setView(s.view === 'search' ? 'panes' : 'search') },
  { keys: ['Escape'], description: 'Close find, filter, dialog or search view', group: 'App', global: true, run: (s) => closeTopmost(s) },
  { keys: [']', 'Alt+ArrowRight'], description: 'Focus the next pane', group: 'Panes', run: (s) => s.cycleFocus(1) },
  { keys: ['[', 'Alt+ArrowLeft'], description: 'Focus the previous pane', group: 'Panes', run: (s) => s.cycleFocus(-1) },
  { keys: ['A'], description: 'Go to the next agent that needs you (waiting)', group: 'Panes', run: (s) => { const next = nextWaiting(s.workspace, s.focusedKey); if (next) s.openAgent(next); } },
  { keys: ['M'], description: 'Maximize or restore the focused pane', group: 'Panes', run: (s) => s.toggleMaximize() },
  { keys: ['W'], description: 'Close the focused pane', group: 'Panes', run: (s) => { const p = focused(s); if (p) s.closePane(p.key); } },
  { keys: ['1'], description: 'Layout: one pane', group: 'Panes', run: (s) => s.setLayout(1) },
  { keys: ['2'], description: 'Layout: two panes (side by side, or stacked when that gives larger text)', group: 'Panes', run: (s) => s.setLayout(2) },
  { keys: ['4'], description: 'Layout: four panes (2 × 2, or a row or column when that gives larger text)', group: 'Panes', run: (s) => s.setLayout(4) },
  { keys: ['0'], description: 'Layout: auto grid of every open pane', group: 'Panes', run: (s) => s.setLayout('auto') },
  { keys: ['+', '='], description: 'Larger text in the focused pane', group: 'Panes', run: (s) => { const p = focused(s); if (p) s.zoom({ pane: p.key }, 1); } },
  { keys: ['-'], description: 'Smaller text in the focused pane', group: 'Panes', run: (s) => { const p = focused(s); if (p) s.zoom({ pane: p.key }, -1); } },
  { keys: ['Z'], description: 'Focused pane back to the fitted text size', group: 'Panes', run: (s) => { const p = focused(s); if (p) s.zoom({ pane: p.key }, 0); } },
  { keys: ['Ctrl+=', 'Ctrl++'], description: 'Larger text in all panes', group: 'Panes', global: true, run: (s) => s.zoom('all', 1) },
  { keys: ['Ctrl+-'], description: 'Smaller text in all panes', group: 'Panes', global: true, run: (s) => s.zoom('all', -1) },
  { keys: ['Ctrl+0'], description: 'All panes back to the fitted text size', group: 'Panes', global: true, run: (s) => s.zoom('all', 0) },
  { keys: ['X'], description: 'Export the focused pane’s run (format, slice, redaction)', group: 'Panes', run: (s) => { const p = focused(s); if (p) openPaneExport(p.key); } },
  { keys: ['G'], description: 'Scroll the focused pane to the end', group: 'Panes', run: (s) => { const p = focused(s); if (p) controllerFor(p.key)?.scrollToBottom(); } },
  { keys: ['N'], description: 'New agent', group: 'App', run: (s) => { if (s.info?.allowedControl.includes('agent:run')) s.setOverlay('newAgent'); } },
  { keys: ['T'], description: 'Switch between dark and light theme', group: 'App', run: (s) => s.toggleTheme() },
];

function closeTopmost(s: AppState & AppActions): void {
  if (s.linkRequest) return s.setLinkRequest(null);
  if (s.overlay) return s.setOverlay(null);
  const pane = focused(s);
  if (s.view === 'panes' && pane?.search.open) {
    controllerFor(pane.key)?.clearSearch();
    return s.closeSearch(pane.key);
  }
  if (s.view === 'panes' && pane?.filter) return s.setFilter(pane.key, null);
  if (s.view === 'search') return s.setView('panes');
}

/** Whether a key event matches a combo such as `Ctrl+Shift+F` or `?`. Ctrl also matches Cmd on macOS. */
export function matchesCombo(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>, combo: string): boolean {
  // Modifiers, then the key, which may itself be `+` (as in `Ctrl++`).
  const [, modifiers, key] = /^((?:(?:Ctrl|Alt|Shift)\+)*)(.+)$/.exec(combo)!;
  const want = new Set(modifiers.split('+').filter(Boolean));
  const ctrl = event.ctrlKey || event.metaKey;
  if (ctrl !== want.has('Ctrl') || event.altKey !== want.has('Alt')) return false;
  // Letters: compare case-insensitively; Shift only matters when the combo names it.
  if (key.length === 1 && /[A-Za-z]/.test(key)) {
    return event.key.toLowerCase() === key.toLowerCase() && event.shiftKey === want.has('Shift');
  }
  // Symbols such as ? and [ already carry Shift in `event.key`.
  if (want.has('Shift') !== event.shiftKey && !(key.length === 1 && !want.has('Shift'))) return false;
  return event.key === key;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.classList?.contains('xterm-helper-textarea')) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

/** Installs the window-wide key handler; returns its remover. */
export function installShortcuts(): () => void {
  const onKey = (event: KeyboardEvent) => {
    const typing = isTyping(event.target);
    for (const shortcut of SHORTCUTS) {
      const combo = shortcut.keys.find((k) => matchesCombo(event, k));
      if (!combo) continue;
      if (shortcut.when && !shortcut.when(appStore.getState())) continue;
      // Enter means "next match" only inside the find box; elsewhere it belongs to the focused control.
      if (combo.endsWith('Enter') && !(event.target as HTMLElement | null)?.classList?.contains('find-input')) continue;
      if (typing && !shortcut.global) continue;
      if (typing && combo === '/') continue;
      event.preventDefault();
      event.stopPropagation();
      shortcut.run(appStore.getState());
      return;
    }
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}
