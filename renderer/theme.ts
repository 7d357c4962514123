/**
 * The two themes. The app chrome takes its colours from CSS variables (styles.css,
 * `[data-theme]`); xterm needs the same palette as an object, which lives here.
 */
import type { ITheme } from '@xterm/xterm';

export type ThemeName = 'dark' | 'light';

/** The next theme when the user toggles. */
export function otherTheme(theme: ThemeName): ThemeName {
  return theme === 'dark' ? 'light' : 'dark';
}

/** Terminal palettes tuned to sit on the pane background of each theme. */
export const TERMINAL_THEMES: Record<ThemeName, ITheme> = {
  dark: {
    background: '#14161a',
    foreground: '#d4d7dd',
    cursor: '#d4d7dd',
    cursorAccent: '#14161a',
    selectionBackground: '#264f78',
    black: '#1e2127',
    red: '#f0606a',
    green: '#8cc265',
    yellow: '#e5c07b',
    blue: '#61afef',
    magenta: '#c678dd',
    cyan: '#56b6c2',
    white: '#c8ccd4',
    brightBlack: '#5c6370',
    brightRed: '#ff7b84',
    brightGreen: '#a5e075',
    brightYellow: '#f0d197',
    brightBlue: '#7cc2ff',
    brightMagenta: '#de93f5',
    brightCyan: '#6fd0dc',
    brightWhite: '#ffffff',
  },
  light: {
    background: '#fbfbfc',
    foreground: '#24292f',
    cursor: '#24292f',
    cursorAccent: '#fbfbfc',
    selectionBackground: '#b6d6fd',
    black: '#24292f',
    red: '#cf222e',
    green: '#116329',
    yellow: '#8a6200',
    blue: '#0550ae',
    magenta: '#8250df',
    cyan: '#1b7c83',
    white: '#6e7781',
    brightBlack: '#57606a',
    brightRed: '#a40e26',
    brightGreen: '#1a7f37',
    brightYellow: '#7d4e00',
    brightBlue: '#0969da',
    brightMagenta: '#a475f9',
    brightCyan: '#3192aa',
    brightWhite: '#8c959f',
  },
};

/** Search highlight colours per theme; the search addon needs #RRGGBB. */
export const SEARCH_COLORS: Record<ThemeName, { match: string; active: string; ruler: string; activeRuler: string }> = {
  dark: { match: '#5a4a12', active: '#b8860b', ruler: '#e5c07b', activeRuler: '#ffae00' },
  light: { match: '#fff2a8', active: '#ffb020', ruler: '#d4a72c', activeRuler: '#ff8c00' },
};
