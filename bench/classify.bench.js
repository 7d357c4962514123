// Line classification (SPEC §4), which runs on every captured line: lines/s of the default rules
// and of a config with user rules, beside the cheapest possible classification (one substring
// test per line) measured in the same run. The goal is to keep up with the SPEC §10 capture
// baseline of 480k lines/s, so classification never limits capture.
// LOUPE_BENCH_CLASSIFY_LINES sets the number of lines (default 1,000,000).
import stripAnsi from 'strip-ansi';
import { header, row } from './report.js';
import { createClassifier } from '../dist/electron/core/capture/classify.js';

const LINES = Number(process.env.LOUPE_BENCH_CLASSIFY_LINES ?? 1_000_000);
/** `pipe-pane 'cat >> file'` lines/s on the reference machine (SPEC §10). */
const CAPTURE_BASELINE_LINES_PER_S = 480_000;

/** A realistic mix: a colored build log with warnings, agent tool calls, an error now and then. */
function makeLines(n) {
  const lines = new Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 997 === 0) lines[i] = `\u001b[31mError:\u001b[0m request ${i} failed with status 500`;
    else if (i % 101 === 0) lines[i] = `src/mod${i % 300}.c:${i % 900}:9: \u001b[35mwarning:\u001b[0m unused variable 'tmp${i}'`;
    else if (i % 53 === 0) lines[i] = `⏺ Bash(npm test -- --grep case${i})`;
    else if (i % 2 === 0) lines[i] = `[${String(i % 100).padStart(3)}%] \u001b[32mBuilding C object\u001b[0m src/core/file_${i}.c.o`;
    else lines[i] = `  compiling module_${i % 5000}.ts ... ok (${i % 97} ms)`;
  }
  return lines;
}

function linesPerSecond(lines, classify) {
  classify(lines[0]); // warm-up of the first call path
  const started = process.hrtime.bigint();
  let sink = 0;
  for (const line of lines) if (classify(line).type === 'stderr') sink++;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink < 0) console.log(sink);
  return lines.length / seconds;
}

const format = (v) => `${Math.round(v / 1000).toLocaleString('en')}k lines/s`;
const lines = makeLines(LINES);
// Baseline: the least a classifier must do: strip ANSI where present and test one substring.
const baseline = linesPerSecond(lines, (line) => ({
  type: (line.includes('\u001b') ? stripAnsi(line) : line).includes('Error:') ? 'stderr' : 'stdout',
}));
const defaults = linesPerSecond(lines, createClassifier());
const withUserRules = linesPerSecond(
  lines,
  createClassifier({
    classify: {
      defaults: true,
      rules: [
        { pattern: '^BUILD BROKEN', type: 'stderr', level: 'fatal' },
        { pattern: 'deprecated|obsolete', level: 'warn' },
        { pattern: '^>> invoke (\\w+)', tool_call: 1 },
        { pattern: '(?i)timeout after \\d+ ?ms', level: 'error' },
      ],
    },
  }),
);

header();
row('classify, default rules', format(defaults), `1 substring test: ${format(baseline)}`, `>= ${format(CAPTURE_BASELINE_LINES_PER_S)}`, defaults >= CAPTURE_BASELINE_LINES_PER_S);
row('classify, defaults + 4 user rules (RE2)', format(withUserRules), `1 substring test: ${format(baseline)}`, `>= ${format(CAPTURE_BASELINE_LINES_PER_S)}`, withUserRules >= CAPTURE_BASELINE_LINES_PER_S);
