/**
 * The live terminal controllers by agent key, for actions that must reach xterm imperatively
 * (find next, scroll to bottom) without React touching xterm. Also exposes read-only pane text as
 * `window.loupeDebug`, which the end-to-end tests and bug reports use to see what a pane shows
 * even when it renders through WebGL.
 */
import type { TerminalController } from './terminalController.js';

/**
 * A pane's terminals: the live one, and while in Replay mode the replay one, which is what the
 * pane shows then, so find, scroll and the debug text reach it instead.
 */
export type PaneLayer = 'live' | 'replay';

const controllers = new Map<string, Partial<Record<PaneLayer, TerminalController>>>();

export function registerController(key: string, controller: TerminalController, layer: PaneLayer = 'live'): () => void {
  controllers.set(key, { ...controllers.get(key), [layer]: controller });
  return () => {
    const layers = { ...controllers.get(key) };
    if (layers[layer] !== controller) return;
    delete layers[layer];
    if (layers.live === undefined && layers.replay === undefined) controllers.delete(key);
    else controllers.set(key, layers);
  };
}

/** The controller of what pane `key` shows now (its replay terminal in Replay mode). */
export function controllerFor(key: string): TerminalController | undefined {
  const layers = controllers.get(key);
  return layers?.replay ?? layers?.live;
}

export interface LoupeDebug {
  /** Text of a pane by agent id: the lines on screen, or the whole buffer. */
  paneText(agentId: string, scope?: 'screen' | 'all'): string | null;
}

function byAgentId(agentId: string): TerminalController | undefined {
  for (const key of controllers.keys()) {
    if ((JSON.parse(key) as string[])[2] === agentId) return controllerFor(key);
  }
  return undefined;
}

declare global {
  interface Window {
    loupeDebug?: LoupeDebug;
  }
}

window.loupeDebug = {
  paneText: (agentId, scope = 'all') => byAgentId(agentId)?.text(scope) ?? null,
};
