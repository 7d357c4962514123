/**
 * "This agent has new entries": a tiny per-agent signal from the live feed to the views that
 * re-query on it (status bar, filter view). Kept out of the store so 60 batches a second don't
 * run every store selector.
 */
type Listener = () => void;

const listeners = new Map<string, Set<Listener>>();

/** Subscribes to new-entry signals of one agent (by `agentKey`); returns the unsubscribe function. */
export function onAgentActivity(key: string, listener: Listener): () => void {
  let set = listeners.get(key);
  if (!set) listeners.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(key);
  };
}

export function signalAgentActivity(key: string): void {
  for (const listener of listeners.get(key) ?? []) listener();
}
