/** The app's one store instance, persisted in localStorage, and the React hook that reads it. */
import { useStore } from 'zustand';
import { createAppStore, type AppActions, type AppState } from './appStore.js';

function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: run without persistence
  }
}

export const appStore = createAppStore(browserStorage());

/** Reads a slice of the app state; the component re-renders when that slice changes. */
export function useApp<T>(selector: (state: AppState & AppActions) => T): T {
  return useStore(appStore, selector);
}
