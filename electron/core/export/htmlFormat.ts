/**
 * `html`: a static, colored transcript of what the terminal showed (its screen lines, SPEC §12,
 * with their colors), one section per agent.
 * Every piece of the run (content, agent id, task id, metadata) is HTML-escaped, and the CSP
 * meta tag allows no script at all, so hostile output cannot execute (RELIABILITY E4).
 */
import { MONO_FONT_FAMILY } from '../../../shared/fonts.js';
import { AnsiHtmlConverter, escapeHtml } from './ansiToHtml.js';
import { describeRedactions } from './summary.js';
import type { ExportContext, OutputSink, RunFormatter } from './formatter.js';
import { lineFormatter } from './textFormats.js';

/** No scripts, no network, no frames, no forms: the page can only show styled text. */
export const STATIC_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const PAGE_STYLE = `
:root { --bg: #1e1e1e; --fg: #d4d4d4; color-scheme: dark; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, sans-serif; }
header, footer { padding: 12px 20px; background: #252526; border-bottom: 1px solid #333; }
footer { border-top: 1px solid #333; color: #9d9d9d; font-size: 12px; }
h1 { font-size: 16px; margin: 0; } h2 { font-size: 14px; margin: 0; padding: 8px 20px; background: #2d2d2d; }
.meta { color: #9d9d9d; font-size: 12px; }
pre { margin: 0; padding: 12px 20px; font: 13px/1.35 ${MONO_FONT_FAMILY};
  white-space: pre-wrap; overflow-wrap: anywhere; }
.err { background: rgba(241, 76, 76, .12); }
`;

export function htmlFormatter(sink: OutputSink, context: ExportContext): RunFormatter {
  let converter = new AnsiHtmlConverter();
  let count = 0;
  let errors = 0;
  sink.write(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n` +
      `<meta http-equiv="Content-Security-Policy" content="${STATIC_HTML_CSP}">\n` +
      `<meta name="referrer" content="no-referrer">\n` +
      `<title>${escapeHtml(context.title)}</title>\n<style>${PAGE_STYLE}</style></head>\n<body>\n` +
      `<header><h1>${escapeHtml(context.title)}</h1><div class="meta">Exported by Loupe on ${escapeHtml(new Date().toISOString())}` +
      ` · ${context.agents.length} agent${context.agents.length === 1 ? '' : 's'}</div></header>\n`,
  );
  const lines = lineFormatter(
    context,
    {
      startAgent(agent) {
        converter = new AnsiHtmlConverter();
        sink.write(`<section><h2>${escapeHtml(agent.agentId)} <span class="meta">${escapeHtml(agent.taskId)}</span></h2>\n<pre>`);
      },
      lines(batch) {
        for (const line of batch) {
          count++;
          const isError = line.level === 'error' || line.level === 'fatal';
          if (isError) errors++;
          const html = converter.write(`${line.ansi ?? line.text}\n`);
          // An error line is highlighted; a line's HTML always ends in "\n".
          sink.write(isError ? `<span class="err">${html.slice(0, -1)}</span>\n` : html);
        }
      },
      endAgent() {
        sink.write(`${converter.end()}</pre></section>\n`);
      },
    },
    { colors: true },
  );
  return {
    ...lines,
    finish(redactions) {
      const note = describeRedactions(redactions);
      sink.write(
        `<footer>${plural(count, 'line', 'lines')} · ${plural(errors, 'error', 'errors')} · ` +
          `redaction: ${escapeHtml(note)}</footer>\n</body></html>\n`,
      );
    },
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
