/**
 * `replay-html`: one self-contained HTML file that replays the run in any browser, offline.
 *
 * - The run is gzipped JSON lines, base64-encoded inside a non-executable `<script type=…>`
 *   block: base64 cannot contain `<`, so no output can close the block or inject markup.
 * - xterm.js, its Unicode 11 widths, serialize addon and CSS, Loupe's keyframe code and the
 *   player are inlined. The CSP allows exactly
 *   those inline scripts, by SHA-256 hash, and no network at all (`default-src 'none'`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { entryLevel, entryTerminalText, parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { escapeHtml } from './ansiToHtml.js';
import { DEFAULT_TERMINAL_SIZE, markerLabel } from './castFormat.js';
import type { ExportAgent, ExportContext, OutputSink, RunFormatter } from './formatter.js';
import { REPLAY_PLAYER_SCRIPT } from './replayPlayerScript.js';
import { describeRedactions } from './summary.js';

/** base64 is written in lines of this many characters, so editors cope with the file; the player drops the breaks. */
const BASE64_LINE_CHARS = 4096;

interface InlineAssets {
  scripts: string[];
  css: string;
}

let assets: InlineAssets | null = null;

/** Inline scripts must not be able to end their own `<script>` element early. */
function inlineScript(source: string, name: string): string {
  const text = source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/<\/script|<!--/i.test(text)) {
    throw new Error(`${name} contains "</script" or "<!--" and cannot be inlined safely`);
  }
  return text;
}

/**
 * Loupe's keyframe code (shared/terminal-state: the serialize addon plus the state it misses),
 * the same the app's replay uses, as a classic script defining `LoupeTerminalState`. The module
 * has no imports, so dropping its `export` keywords is all it takes.
 */
function terminalStateScript(): string {
  // dist/electron/core/export → dist/shared; from the sources (tests), the build's copy.
  const candidates = ['../../../shared/terminal-state.js', '../../../dist/shared/terminal-state.js'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const file = candidates.find((f) => fs.existsSync(f)) ?? candidates[0];
  const module = fs
    .readFileSync(file, 'utf8')
    .replace(/^export /gm, '')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  return `(() => {\n${module}\nglobalThis.LoupeTerminalState = { canKeyframe, serializeTerminalState };\n})();\n`;
}

function loadAssets(): InlineAssets {
  if (assets !== null) return assets;
  const require = createRequire(import.meta.url);
  const read = (id: string) => fs.readFileSync(require.resolve(id), 'utf8');
  assets = {
    scripts: [
      inlineScript(read('@xterm/xterm/lib/xterm.js'), '@xterm/xterm'),
      inlineScript(read('@xterm/addon-unicode11/lib/addon-unicode11.js'), '@xterm/addon-unicode11'),
      inlineScript(read('@xterm/addon-serialize/lib/addon-serialize.js'), '@xterm/addon-serialize'),
      inlineScript(terminalStateScript(), "Loupe's terminal state"),
      inlineScript(REPLAY_PLAYER_SCRIPT, 'the replay player'),
    ],
    css: read('@xterm/xterm/css/xterm.css'),
  };
  return assets;
}

/** The CSP of a replay file: its own scripts by hash, inline styles (xterm sets them), nothing else. */
export function replayCsp(scripts: readonly string[]): string {
  const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`);
  return [
    "default-src 'none'",
    `script-src ${hashes.join(' ')}`,
    "style-src 'unsafe-inline'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const PAGE_STYLE = `
html, body { margin: 0; height: 100%; background: #181818; color: #d4d4d4; font: 13px/1.4 system-ui, sans-serif; color-scheme: dark; }
#app { display: flex; flex-direction: column; height: 100%; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 14px; background: #252526; border-bottom: 1px solid #333; }
#title { font-weight: 600; font-size: 14px; }
#info, #redaction { color: #9d9d9d; font-size: 12px; }
#redaction { margin-left: auto; }
main { flex: 1; overflow: auto; display: flex; justify-content: center; align-items: flex-start; padding: 14px; }
#terminal { padding: 8px; background: #1e1e1e; border: 1px solid #333; border-radius: 6px; box-shadow: 0 4px 18px rgba(0,0,0,.4); }
footer { display: flex; gap: 10px; align-items: center; padding: 8px 14px; background: #252526; border-top: 1px solid #333; }
button, select { background: #3a3d41; color: #e0e0e0; border: 1px solid #555; border-radius: 4px; padding: 3px 10px; font: inherit; cursor: pointer; }
button:hover { background: #45494e; }
#play { min-width: 64px; background: #0e639c; border-color: #1177bb; }
#track { position: relative; flex: 1; height: 28px; display: flex; align-items: center; }
#scrub { width: 100%; margin: 0; accent-color: #3794ff; }
#markers { position: absolute; left: 0; right: 0; top: 0; height: 8px; pointer-events: none; }
.marker { position: absolute; top: 0; width: 4px; height: 9px; padding: 0; margin-left: -2px; border: 0; border-radius: 1px; background: #f14c4c; pointer-events: auto; }
#keys { color: #7a7a7a; font-size: 11px; }
#time { font-variant-numeric: tabular-nums; color: #c8c8c8; min-width: 120px; text-align: right; }
`;

/** The per-agent header line of the embedded run; the agent's events follow it. */
interface AgentLine {
  agent: string;
  task: string;
  cols: number;
  rows: number;
  /** Microseconds since the epoch of the first event. */
  start: number;
}

/** Pending JSON text is handed to the compressor in pieces about this big. */
const COMPRESS_CHUNK_CHARS = 1024 * 1024;

export function replayHtmlFormatter(sink: OutputSink, context: ExportContext): RunFormatter {
  const { scripts, css } = loadAssets();
  const gzip = zlib.createGzip({ level: 6 });
  const compressed: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  let pending = '';
  const put = (value: unknown) => {
    pending += JSON.stringify(value) + '\n';
  };
  put({ title: context.title });

  let agent: ExportAgent | null = null;
  let header: AgentLine | null = null;
  let cols: number = DEFAULT_TERMINAL_SIZE.cols;
  let rows: number = DEFAULT_TERMINAL_SIZE.rows;
  let lastMs = 0;

  const ms = (entry: LogEntry) => {
    const t = (parseTimestamp(entry.timestamp) - (header?.start ?? 0)) / 1000;
    // Events must not go back in time; a clock step between entries is flattened.
    lastMs = Number.isFinite(t) ? Math.max(lastMs, Math.round(t * 1000) / 1000) : lastMs;
    return lastMs;
  };
  const start = (startMicros: number) => {
    header = { agent: agent!.agentId, task: agent!.taskId, cols, rows, start: startMicros };
    lastMs = 0;
    put(header);
  };

  return {
    startAgent(next) {
      agent = next;
      header = null;
      cols = DEFAULT_TERMINAL_SIZE.cols;
      rows = DEFAULT_TERMINAL_SIZE.rows;
    },
    resize(c, r, entry) {
      if (header === null) {
        cols = c;
        rows = r;
      } else {
        put([ms(entry), 'r', `${c}x${r}`]);
      }
    },
    entry(entry) {
      if (header === null) {
        const micros = parseTimestamp(entry.timestamp);
        start(Number.isFinite(micros) ? micros : 0);
      }
      const text = entryTerminalText(entry);
      if (text !== '') put([ms(entry), 'o', text]);
      const level = entryLevel(entry);
      if (level === 'error' || level === 'fatal') put([ms(entry), 'm', markerLabel(entry)]);
    },
    endAgent() {
      // An agent with nothing selected still appears in the picker, with an empty terminal.
      if (header === null) start(0);
    },
    async drain() {
      if (pending.length < COMPRESS_CHUNK_CHARS) return;
      const ok = gzip.write(pending);
      pending = '';
      if (!ok) await new Promise<void>((resolve) => gzip.once('drain', resolve));
    },
    async finish(redactions) {
      put({ redaction: describeRedactions(redactions) });
      gzip.end(pending);
      pending = '';
      await ended;
      writePage(sink, context, scripts, css, Buffer.concat(compressed));
    },
  };
}

function writePage(sink: OutputSink, context: ExportContext, scripts: string[], css: string, run: Buffer): void {
  sink.write(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n` +
      `<meta http-equiv="Content-Security-Policy" content="${replayCsp(scripts)}">\n` +
      `<meta name="referrer" content="no-referrer">\n` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
      `<title>${escapeHtml(context.title)}</title>\n<style>${css}\n${PAGE_STYLE}</style></head>\n<body data-state="loading">\n` +
      `<div id="app"><header><span id="title"></span><select id="agent" aria-label="Agent" hidden></select>` +
      `<span id="info">Loading…</span><span id="redaction"></span></header>\n` +
      `<main><div id="terminal"></div></main>\n` +
      `<footer><button id="play">Play</button><button id="back" title="Previous event (←)">◀</button>` +
      `<button id="forward" title="Next event (→)">▶</button>` +
      `<div id="track"><div id="markers"></div><input id="scrub" type="range" min="0" max="1" step="1" value="0" aria-label="Time"></div>` +
      `<span id="time"></span><select id="speed" aria-label="Speed"></select>` +
      `<span id="keys">Space play · ←/→ step · Home/End</span></footer></div>\n` +
      `<script type="application/x-loupe-run+gzip+base64" id="loupe-run">\n`,
  );
  const b64 = run.toString('base64');
  for (let i = 0; i < b64.length; i += BASE64_LINE_CHARS) sink.write(b64.slice(i, i + BASE64_LINE_CHARS) + '\n');
  sink.write(`</script>\n`);
  for (const script of scripts) sink.write(`<script>${script}</script>\n`);
  sink.write(`</body></html>\n`);
}
