/**
 * The live terminal controllers by agent key, for actions that must reach xterm imperatively
 * (find next, scroll to bottom) without React touching xterm. Also exposes read-only pane text as
 * `window.loupeDebug`, which the end-to-end tests and bug reports use to see what a pane shows
 * even when it renders through WebGL.
 */
import type { TerminalController } from './terminalController.js';

const controllers = new Map<string, TerminalController>();

export function registerController(key: string, controller: TerminalController): () => void {
  controllers.set(key, controller);
  return () => {
    if (controllers.get(key) === controller) controllers.delete(key);
  };
}

export function controllerFor(key: string): TerminalController | undefined {
  return controllers.get(key);
}

export interface LoupeDebug {
  /** Text of a pane by agent id: the lines on screen, or the whole buffer. */
  paneText(agentId: string, scope?: 'screen' | 'all'): string | null;
  /** The renderer a pane uses ('webgl' or 'dom'). */
  paneRenderer(agentId: string): string | null;
}

function byAgentId(agentId: string): TerminalController | undefined {
  for (const [key, controller] of controllers) {
    if ((JSON.parse(key) as string[])[2] === agentId) return controller;
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
