/**
 * The live terminal controllers by agent key, for actions that must reach xterm imperatively
 * (find next, scroll to bottom) without React touching xterm. Also exposes read-only pane text as
 * `window.loupeDebug`, which the end-to-end tests and bug reports use to see what a pane shows
 * even when it renders through WebGL.
 */
import type { TerminalController } from './terminalController.js';

/**
 * Per pane, the controllers registered, newest last: a pane in Replay mode registers its replay
 * terminal over the live one, so find, scroll and the debug text reach what the pane shows.
 */
const controllers = new Map<string, TerminalController[]>();

export function registerController(key: string, controller: TerminalController): () => void {
  controllers.set(key, [...(controllers.get(key) ?? []), controller]);
  return () => {
    const rest = (controllers.get(key) ?? []).filter((c) => c !== controller);
    if (rest.length > 0) controllers.set(key, rest);
    else controllers.delete(key);
  };
}

/** The controller of what pane `key` shows now (its replay terminal in Replay mode). */
export function controllerFor(key: string): TerminalController | undefined {
  return controllers.get(key)?.at(-1);
}

export interface LoupeDebug {
  /** Text of a pane by agent id: the lines on screen, or the whole buffer. */
  paneText(agentId: string, scope?: 'screen' | 'all'): string | null;
  /** The renderer a pane uses ('webgl' or 'dom'). */
  paneRenderer(agentId: string): string | null;
}

function byAgentId(agentId: string): TerminalController | undefined {
  for (const [key, stack] of controllers) {
    if ((JSON.parse(key) as string[])[2] === agentId) return stack.at(-1);
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
  paneRenderer: (agentId) => byAgentId(agentId)?.renderer ?? null,
};
