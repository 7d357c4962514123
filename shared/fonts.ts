/**
 * The font stack of every terminal and code view: Loupe's panes, its filter and search views, and
 * the HTML exports. A monospace font for letters and box drawing on each system (macOS: Menlo;
 * Windows: Cascadia Mono or Consolas; Linux: DejaVu Sans Mono), then symbol fonts for what agents
 * print beyond them: Claude Code's `⏺ ⎿ ✻ ✶`, prompt arrows `❯`, braille spinners `⠋⠙⠹`.
 *
 * The app bundles the two Noto symbol fonts (SIL Open Font License 1.1, from @fontsource) under
 * the names below; elsewhere (an exported file opened on another machine) the system's own
 * symbol fonts of the same or similar names take their place.
 */
export const SYMBOL_FONTS = ['Loupe Noto Sans Symbols 2', 'Loupe Noto Sans Symbols'] as const;

export const MONO_FONT_FAMILY = [
  '"JetBrains Mono"',
  '"Cascadia Mono"',
  'Menlo',
  'Consolas',
  '"DejaVu Sans Mono"',
  ...SYMBOL_FONTS.map((name) => `"${name}"`),
  '"Apple Symbols"',
  '"Segoe UI Symbol"',
  '"Noto Sans Symbols 2"',
  '"Noto Sans Symbols"',
  'monospace',
].join(', ');
