/**
 * Which run the export dialog is open on. The dialog itself is the `export` overlay of the app
 * store (so Escape and the help overlay treat it like the other dialogs); this holds its target.
 */
import { createStore, useStore } from 'zustand';
import { appStore } from '../store/useApp.js';
import type { ExportTarget } from './exportForm.js';

const targetStore = createStore<{ target: ExportTarget | null }>(() => ({ target: null }));

/** Opens the export dialog on an agent or a task. */
export function openExport(target: ExportTarget): void {
  targetStore.setState({ target });
  appStore.getState().setOverlay('export');
}

/** Opens the export dialog on a pane's agent (its filter or replay position is the default slice). */
export function openPaneExport(paneKey: string): void {
  const pane = appStore.getState().panes.find((p) => p.key === paneKey);
  if (!pane) return;
  const { root, taskId, agentId } = pane.agent;
  openExport({ root, taskId, agentId, agentIds: [agentId], paneKey });
}

/** The dialog's target, for React. */
export function useExportTarget(): ExportTarget | null {
  return useStore(targetStore, (s) => s.target);
}
