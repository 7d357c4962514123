/**
 * Keeps a pane's terminal fitted to its host (terminal/fitTerminal.ts): on a resize of the pane
 * or of the rendered screen (a recorded resize, a font change), and when the user's text size
 * settings change; and its cursor's row in view as the cursor moves.
 */
import { useEffect, useRef, type RefObject } from 'react';
import { PaneFitter } from '../terminal/fitTerminal.js';
import type { TerminalController } from '../terminal/terminalController.js';
import { useApp } from '../store/useApp.js';

export function usePaneFit(hostRef: RefObject<HTMLElement | null>, controller: TerminalController | null, paneKey: string, visible: boolean): void {
  const minFontSize = useApp((s) => s.minFontSize);
  const zoom = useApp((s) => s.zoomAll + (s.paneZoom[paneKey] ?? 0));
  const settings = useRef({ minFontSize, zoom });
  settings.current = { minFontSize, zoom };
  const fitter = useRef<PaneFitter | null>(null);

  useEffect(() => {
    const host = hostRef.current;
    if (!host || !controller || !visible) return;
    const paneFitter = new PaneFitter(host, controller, () => settings.current);
    fitter.current = paneFitter;
    const observer = new ResizeObserver(() => paneFitter.fit());
    observer.observe(host);
    const screen = controller.screenElement;
    if (screen) observer.observe(screen);
    const cursor = controller.onCursorMove(() => paneFitter.followCursor());
    paneFitter.fit();
    return () => {
      cursor.dispose();
      observer.disconnect();
      paneFitter.dispose();
      fitter.current = null;
    };
  }, [hostRef, controller, visible]);

  useEffect(() => fitter.current?.fit(), [minFontSize, zoom]);
}
