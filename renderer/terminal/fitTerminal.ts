/**
 * Fits a terminal's recorded cols × rows into its host element by choosing the font size, never by
 * re-wrapping (SPEC §7 fidelity); below the smallest readable size the host scrolls instead.
 */
import { MAX_FONT_SIZE, MIN_FONT_SIZE, type TerminalController } from './terminalController.js';

/** Pixels of the pane body around the terminal (its padding). */
const HOST_PADDING = 8;

export function fitTerminal(host: HTMLElement, controller: TerminalController): void {
  if (host.clientWidth === 0) return;
  for (let attempt = 0; attempt < 3; attempt++) {
    const { width, height } = controller.measure();
    if (width === 0 || height === 0) return;
    const fit = Math.min((host.clientWidth - HOST_PADDING) / width, (host.clientHeight - HOST_PADDING) / height);
    const wanted = Math.floor(controller.fontSize * fit * 2) / 2; // half-pixel steps keep glyphs crisp
    const size = Math.min(MAX_FONT_SIZE, Math.max(MIN_FONT_SIZE, wanted));
    if (size === controller.fontSize) break;
    controller.setFontSize(size);
  }
  host.dataset.fontSize = String(controller.fontSize);
}
