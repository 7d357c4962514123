/**
 * Fits a terminal's recorded cols × rows into its pane by choosing the font size, never by
 * re-wrapping (SPEC §7 fidelity). The size is the largest at which the whole screen fits the
 * pane's width and height, but never below the user's readable minimum: below it the terminal
 * keeps the minimum size and the pane scrolls, keeping the cursor's row (where the newest output
 * is) in view while the user has not scrolled away. Zoom multiplies the fitted size, per pane and
 * for all panes.
 */
import type { TerminalController } from './terminalController.js';

/** The readable minimum unless the user sets another (px). */
export const DEFAULT_MIN_FONT_SIZE = 11;
/** The range the user may set the minimum in (px). */
export const MIN_FONT_SIZE_RANGE = { min: 6, max: 20 } as const;
/** Fitting alone never goes above this: an 80 × 24 agent in a maximized 4K pane stays a terminal. */
export const MAX_FITTED_FONT_SIZE = 20;
/** Zoom bounds, whatever the steps (px). */
const SMALLEST_FONT_SIZE = 5;
const LARGEST_FONT_SIZE = 48;
/** Each zoom step scales the font by this much. */
export const ZOOM_STEP = 1.1;
export const MAX_ZOOM_STEPS = 12;
/** Pixels of the pane body around the terminal (its padding). */
const HOST_PADDING = 8;
/** How close to the bottom (px) still counts as scrolled to the end. */
const BOTTOM_SLACK = 4;

export interface FitSettings {
  minFontSize: number;
  /** Zoom steps: positive is larger, 0 is the fitted size. */
  zoom: number;
}

const halfStepDown = (size: number) => Math.floor(size * 2) / 2;
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The font size for a terminal that fits its pane at `fits` px: at least the minimum, at most
 * MAX_FITTED_FONT_SIZE, then zoomed. Half-pixel steps keep glyphs crisp.
 */
export function chooseFontSize(fits: number, settings: FitSettings): number {
  const fitted = clamp(fits, settings.minFontSize, Math.max(settings.minFontSize, MAX_FITTED_FONT_SIZE));
  const zoomed = fitted * ZOOM_STEP ** clamp(settings.zoom, -MAX_ZOOM_STEPS, MAX_ZOOM_STEPS);
  return clamp(halfStepDown(zoomed), SMALLEST_FONT_SIZE, LARGEST_FONT_SIZE);
}

/**
 * One pane's fitting: call `fit()` whenever the pane, the terminal's size or the settings change
 * (the pane observes its host and the rendered screen). It reaches a fixed point: the size it
 * sets is measured again, and a size that turned out too big for the pane's current box is not
 * tried again until the box changes.
 */
export class PaneFitter {
  private box = '';
  private tooBig = Infinity;
  /** Whether the view follows the cursor: until the user scrolls away, again once they scroll to the end. */
  private following = true;
  /** Where this fitter last scrolled the pane to (its own scrolls are not the user's). */
  private scrolledTo = -1;
  private frame = 0;
  private readonly onScroll = () => {
    const host = this.host;
    if (Math.abs(host.scrollTop - this.scrolledTo) <= 1) return;
    this.following = host.scrollTop + host.clientHeight >= host.scrollHeight - BOTTOM_SLACK;
  };

  constructor(
    private readonly host: HTMLElement,
    private readonly controller: TerminalController,
    private readonly settings: () => FitSettings,
  ) {
    host.addEventListener('scroll', this.onScroll, { passive: true });
  }

  fit(): void {
    const width = this.host.clientWidth - HOST_PADDING;
    const height = this.host.clientHeight - HOST_PADDING;
    const measured = this.controller.measure();
    if (width <= 0 || height <= 0 || measured.width === 0 || measured.height === 0) return;
    const { cols, rows } = this.controller.size;
    const box = `${width}×${height}:${cols}×${rows}`;
    if (box !== this.box) {
      this.box = box;
      this.tooBig = Infinity;
    }
    const current = this.controller.fontSize;
    // Rendered size is proportional to the font size, up to rounding of the cell size.
    let fits = halfStepDown(current * Math.min(width / measured.width, height / measured.height));
    if (measured.width > width || measured.height > height) this.tooBig = Math.min(this.tooBig, current);
    if (fits >= this.tooBig) fits = this.tooBig - 0.5;
    const size = chooseFontSize(fits, this.settings());
    if (size !== current) this.controller.setFontSize(size);
    this.host.dataset.fontSize = String(size);
    this.host.dataset.scrolls = String(size > fits);
    this.keepCursorVisible();
  }

  /** Keeps the cursor's row in view on the next frame (call on every cursor move: it coalesces). */
  followCursor(): void {
    if (this.following && this.frame === 0) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.keepCursorVisible();
      });
    }
  }

  /** While following, scrolls as little as shows the cursor's row: the top of the screen if it is there. */
  private keepCursorVisible(): void {
    if (!this.following) return;
    const host = this.host;
    const { height } = this.controller.measure();
    const rowHeight = height / this.controller.size.rows;
    const cursorBottom = (this.controller.cursorRow + 1) * rowHeight + HOST_PADDING;
    const target = Math.max(0, Math.min(host.scrollHeight - host.clientHeight, Math.ceil(cursorBottom - host.clientHeight)));
    this.scrolledTo = target;
    if (host.scrollTop !== target) host.scrollTop = target;
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.host.removeEventListener('scroll', this.onScroll);
  }
}
