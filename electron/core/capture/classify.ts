/**
 * Classification of captured lines (SPEC §4): each line's entry type and level come from an
 * ordered list of rules, matched on the ANSI-stripped text that stays visible (after the last
 * `\r`); the first match wins, and a line no rule matches is plain `stdout`.
 *
 * The default rules (DEFAULT_RULES, in this order):
 * - tool calls → `control` + `metadata.tool_call`, in the forms agent CLIs print:
 *   - Claude Code: `⏺ Bash(npm test)`, `● Read(src/app.ts)`, `⏺ github - create_issue (MCP)(…)`
 *   - Codex: `• Ran npm test` (shell), `• Edited src/app.ts (+3 -1)` (apply_patch), `• Explored` (explore),
 *     `• Called server.tool(…)` (server.tool)
 *   - orchestrators: `Tool call: name …`, `Calling tool: name`, `Using tool: name`, `[tool] name …`
 *   - Claude's stream-json: `{"type":"tool_use","id":"…","name":"Bash",…}`
 * - fatal errors → `stderr` + `fatal`: `FATAL`, `fatal: …` (git), `Fatal error:`, `Segmentation fault`, `core dumped`
 * - errors → `stderr` + `error`: `Traceback (most recent call last):`, `…Error:`, `…Exception:`,
 *   `error:` / `error[E0308]:` at the start or after `file:line: ` (compilers), `ERROR`, `npm ERR!`,
 *   `npm error`, `panic:`, `panicked at`, `Exception in thread`, `FAIL` / `FAILED`.
 *   The indented frames after a `Traceback` line, and the exception line that ends them, are errors too.
 * - warnings → `stdout` + `warn`: `warning:` / `Warning:`, `WARN`, `WARNING`, `DeprecationWarning`
 *   and other `…Warning` classes, `[warn]`, `⚠`.
 *
 * Configured rules (config.ts) run before the defaults, or instead of them with `"defaults": false`.
 */
import { RE2JS } from 're2js';
import type { EntryMetadata, EntryType } from '../../../shared/entry.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { loadConfig, type ClassifyRule, type LoupeConfig } from './config.js';

/** What classification decides for one line. */
export interface Classification {
  type: EntryType;
  metadata?: EntryMetadata;
}

/**
 * Classifies one captured line (its content, without the newline; ANSI escapes allowed).
 * A classifier is stateful (a traceback spans lines): make one per agent, and feed it that
 * agent's lines in order. The objects it returns are shared and frozen: copy before changing.
 */
export type Classifier = (line: string) => Classification;

const ESC = '\x1b';
const ESC_CODE = 0x1b;
const CR = 0x0d;
const BEL = 0x07;
/** After ESC: `[` starts a CSI sequence, `]` an OSC string (ended by BEL or ESC + ST_END, a backslash). */
const CSI_START = 0x5b;
const OSC_START = 0x5d;
const ST_END = 0x5c;

/** Loupe's built-in rules, in order. Valid in both RE2 and JavaScript syntax. */
export const DEFAULT_RULES: readonly ClassifyRule[] = Object.freeze([
  // Claude Code: `⏺ Bash(npm test)`; older versions print `●`. A reply also starts with `⏺`, so a `Name(` is required.
  { pattern: '^\\s*[⏺●] ?([A-Za-z][\\w.-]*(?: - [\\w.-]+ \\(MCP\\))?)\\(', type: 'control', tool_call: 1 },
  // Codex: `• Ran npm test`, `• Edited src/app.ts (+3 -1)`, `• Explored`, `• Called docs.search({…})`.
  { pattern: '^\\s*• Ran ', type: 'control', tool_call: 'shell' },
  { pattern: '^\\s*• Edited ', type: 'control', tool_call: 'apply_patch' },
  { pattern: '^\\s*• Explored\\b', type: 'control', tool_call: 'explore' },
  { pattern: '^\\s*• Called ([\\w.:-]+)', type: 'control', tool_call: 1 },
  // Orchestrators and wrappers: `Tool call: read_file {…}`, `[tool] bash ls`.
  { pattern: '^\\s*(?:Tool call|Calling tool|Using tool):? +([A-Za-z_][\\w.:-]*)', type: 'control', tool_call: 1 },
  { pattern: '^\\s*\\[(?:tool|tool_call|tool-call)\\] *([A-Za-z_][\\w.:-]*)', type: 'control', tool_call: 1 },
  // `claude -p --output-format stream-json`
  { pattern: '"type":"tool_use","id":"[^"]*","name":"([^"]+)"', type: 'control', tool_call: 1 },
  { pattern: '\\bFATAL\\b|^\\s*fatal:|\\bFatal error:|Segmentation fault|core dumped', type: 'stderr', level: 'fatal' },
  { pattern: 'Traceback \\(most recent call last\\)', type: 'stderr', level: 'error' },
  {
    // Lowercase `error:` only where compilers put it (`error: …`, `file.c:3:5: error: …`), not `{ error: x }`.
    pattern:
      'Error:|Exception:|(?:^\\s*|: )error(?:\\[\\w+\\])?:|^npm error |\\bERROR\\b|\\bERR!|\\bpanic:|\\bpanicked at\\b|^Exception in thread |\\bFAIL(?:ED)?\\b',
    type: 'stderr',
    level: 'error',
  },
  // `[A-Z][a-z]*Warning` rather than `\w+Warning`: the latter backtracks quadratically on long words.
  { pattern: '[Ww]arning:|\\bWARN(?:ING)?\\b|\\b[A-Z][a-z]*Warning\\b|\\[warn\\]|⚠', type: 'stdout', level: 'warn' },
]);

/** Index in DEFAULT_RULES of the rule that opens a Python traceback. */
const TRACEBACK_RULE = DEFAULT_RULES.findIndex((r) => r.pattern.startsWith('Traceback'));

interface CompiledRule {
  test(text: string): boolean;
  /** The classification of a line that passed `test`. */
  result(text: string): Classification;
}

const PLAIN: Classification = freeze({ type: 'stdout' });
const TRACEBACK_FRAME: Classification = freeze({ type: 'stderr', metadata: { level: 'error' } });

function freeze(c: Classification): Classification {
  if (c.metadata) Object.freeze(c.metadata);
  return Object.freeze(c);
}

/**
 * How a rule classifies its matches. Rules without a tool name share one frozen result; tool-call
 * rules build one per match (they are rare) from `toolName`.
 */
function resultOf(rule: ClassifyRule, toolName: (text: string) => string): CompiledRule['result'] {
  const type = rule.type ?? (rule.tool_call !== undefined ? 'control' : 'stdout');
  if (rule.tool_call === undefined) {
    const shared = freeze(rule.level === undefined ? { type } : { type, metadata: { level: rule.level } });
    return () => shared;
  }
  return (text) => {
    const metadata: EntryMetadata = { tool_call: toolName(text) };
    if (rule.level !== undefined) metadata.level = rule.level;
    return { type, metadata };
  };
}

/** Our own rules run on V8's engine: each was written to match in linear time. */
function compileDefaultRule(rule: ClassifyRule): CompiledRule {
  const re = new RegExp(rule.pattern, 'u');
  const group = rule.tool_call;
  const toolName = typeof group === 'number' ? (text: string) => re.exec(text)?.[group] ?? '' : () => String(group);
  return { test: (text) => re.test(text), result: resultOf(rule, toolName) };
}

const CASELESS_PREFIX = '(?i)';

/** User rules run under RE2 (linear time, SPEC §9). */
function compileUserRule(rule: ClassifyRule): CompiledRule {
  // A leading `(?i)` becomes the ignoreCase option, which lets simple patterns run natively.
  const caseless = rule.pattern.startsWith(CASELESS_PREFIX);
  const regex = caseless
    ? compileUserRegex(rule.pattern.slice(CASELESS_PREFIX.length), { ignoreCase: true })
    : compileUserRegex(rule.pattern);
  const group = rule.tool_call;
  let toolName = (_text: string): string => String(group);
  if (typeof group === 'number') {
    const re2 = RE2JS.compile(rule.pattern);
    toolName = (text) => {
      const m = re2.matcher(text);
      return m.find() ? (m.group(group) ?? '') : '';
    };
  }
  return { test: (text) => regex.test(text), result: resultOf(rule, toolName) };
}

const compiledDefaults: CompiledRule[] = DEFAULT_RULES.map(compileDefaultRule);
/**
 * One pass that rejects the common line (no rule matches) without trying each rule: most
 * captured lines are plain output, and this runs on every one of them.
 */
const ANY_DEFAULT = new RegExp(DEFAULT_RULES.map((r) => `(?:${r.pattern})`).join('|'), 'u');
/**
 * A cheaper test run before ANY_DEFAULT: text that any default rule matches contains one of these
 * literals (each rule's alternatives each contain one: `⏺ ●` and `•` tool calls, `ool` of the
 * tool-call forms, the fatal words, `Traceback`, `Error:` `Exception` `error` `ERR` `panic` `FAIL`,
 * `arning` of every warning form, `WARN`, `[warn]`, `⚠`). A plain alternation of literals scans
 * about three times faster than the rules themselves. Keep it in step with DEFAULT_RULES.
 */
const DEFAULT_CANDIDATE =
  /[⏺●•⚠]|ool|FATAL|fatal:|Fatal error:|Segmentation fault|core dumped|Traceback|Error:|Exception|error|ERR|panic|FAIL|arning|WARN|\[warn\]/;

/**
 * What a line leaves on screen: the part after its last `\r` (a spinner redraws a line in place,
 * and `\r\x1b[K⏺ Bash(…)` is a tool call), without escape sequences. A trailing `\r` (CRLF
 * output) is ignored.
 */
function visibleText(line: string): string {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === CR) end--;
  const start = line.lastIndexOf('\r', end - 1) + 1;
  const text = start === 0 && end === line.length ? line : line.slice(start, end);
  return text.includes(ESC) ? stripEscapes(text) : text;
}

/**
 * Removes CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`) and two-byte escapes.
 * A hand-written scan: about twice as fast as strip-ansi's regex, and it runs on every colored line.
 */
function stripEscapes(text: string): string {
  let out = '';
  let kept = 0;
  for (let i = text.indexOf(ESC); i >= 0; i = text.indexOf(ESC, kept)) {
    out += text.slice(kept, i);
    let j = i + 2;
    const kind = text.charCodeAt(i + 1);
    if (kind === CSI_START) {
      while (j < text.length && !isCsiFinal(text.charCodeAt(j))) j++;
      j++;
    } else if (kind === OSC_START) {
      while (j < text.length && text.charCodeAt(j) !== BEL && !(text.charCodeAt(j) === ESC_CODE && text.charCodeAt(j + 1) === ST_END)) j++;
      j += text.charCodeAt(j) === BEL ? 1 : 2;
    } else if (kind >= 0x20 && kind <= 0x2f) {
      // nF escapes such as `ESC ( B` (character set): intermediate bytes, then one final byte.
      while (j < text.length && text.charCodeAt(j) <= 0x2f) j++;
      j++;
    }
    kept = Math.min(j, text.length);
  }
  return out + text.slice(kept);
}

function isCsiFinal(code: number): boolean {
  return code >= 0x40 && code <= 0x7e;
}

/** Makes fresh classifiers (one per agent) from rules compiled once. */
export type ClassifierFactory = () => Classifier;

const NO_CONFIG: Pick<LoupeConfig, 'classify'> = { classify: { defaults: true, rules: [] } };

/**
 * Compiles a config's rules (configured rules first, then the defaults unless
 * `classify.defaults` is false) into a factory of classifiers. Compile once per root and call
 * the factory once per agent: each classifier keeps its own traceback state, so two agents'
 * interleaved lines never mix. Throws RegexError for a bad configured pattern.
 */
export function compileClassifier(config: Pick<LoupeConfig, 'classify'> = NO_CONFIG): ClassifierFactory {
  const userRules = config.classify.rules.map(compileUserRule);
  const defaults = config.classify.defaults;
  return () => {
    let inTraceback = false;
    return (line: string): Classification => {
      // The common plain line, decided without cutting out its visible text: without escapes,
      // that text is a part of the line, so a line without any candidate literal has none either.
      if (userRules.length === 0 && !inTraceback && !line.includes(ESC) && !DEFAULT_CANDIDATE.test(line)) return PLAIN;
      const text = visibleText(line);
      for (const rule of userRules) {
        if (rule.test(text)) return rule.result(text);
      }
      if (!defaults) return PLAIN;
      if (inTraceback) {
        // Frames are indented; the first line that is not ends the block (it names the exception).
        if (text.length === 0) inTraceback = false;
        else {
          if (text[0] !== ' ' && text[0] !== '\t' && !compiledDefaults[TRACEBACK_RULE].test(text)) inTraceback = false;
          return TRACEBACK_FRAME;
        }
      }
      if (!DEFAULT_CANDIDATE.test(text) || !ANY_DEFAULT.test(text)) return PLAIN;
      for (let i = 0; i < compiledDefaults.length; i++) {
        const rule = compiledDefaults[i];
        if (!rule.test(text)) continue;
        if (i === TRACEBACK_RULE) inTraceback = true;
        return rule.result(text);
      }
      return PLAIN;
    };
  };
}

/** One classifier for one agent: `compileClassifier(config)()`. */
export function createClassifier(config: Pick<LoupeConfig, 'classify'> = NO_CONFIG): Classifier {
  return compileClassifier(config)();
}

/**
 * The classifier factory for agents captured under `root`, from its config file (config.ts) or
 * the defaults. Throws ConfigError when the config file is bad.
 */
export function loadClassifierFactory(root: string): ClassifierFactory {
  return compileClassifier(loadConfig(root).config);
}

/** One classifier for one agent under `root`. Throws ConfigError when the config file is bad. */
export function loadClassifier(root: string): Classifier {
  return loadClassifierFactory(root)();
}

/**
 * A classifier for an agent under `root` from its config file, or with the default rules when
 * there is no root or its config is bad (as capture does: `loupe ls` reports the bad file).
 */
export function rootClassifier(root?: string): Classifier {
  if (root !== undefined) {
    try {
      return loadClassifier(root);
    } catch {
      // a bad config file: the defaults
    }
  }
  return createClassifier();
}
