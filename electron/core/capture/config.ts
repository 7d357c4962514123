/**
 * Loupe's configuration file (issue 2): `loupe.config.json` in the root, else
 * `$XDG_CONFIG_HOME/loupe/config.json` (`~/.config/loupe/config.json`). The first file found
 * is used as a whole; the two are not merged.
 *
 * ```json
 * {
 *   "classify": {
 *     "defaults": true,
 *     "rules": [{ "pattern": "^BUILD FAILED", "type": "stderr", "level": "error" }]
 *   },
 *   "attention": {
 *     "defaults": true,
 *     "rules": [{ "name": "deploy-confirm", "pattern": "^Deploy to production\\?", "near": "cursor" }]
 *   },
 *   "rotateBytes": 104857600,
 *   "prices": { "my-model": { "input": 1, "output": 4, "cacheRead": 0.1, "cacheWrite": 1.25 } },
 *   "importTranscripts": true
 * }
 * ```
 *
 * A bad file is a `ConfigError` whose message names the file, the key and the problem.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { RE2JS } from 're2js';
import { ENTRY_TYPES, LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
import type { PromptRule } from '../attention/attention.js';
import type { ModelPrice } from '../transcripts/prices.js';
import { compileUserRegex } from '../regex/userRegex.js';

/** The per-root config file name. */
export const ROOT_CONFIG_NAME = 'loupe.config.json';

/**
 * One classification rule. Rules are tried in order on the ANSI-stripped line; the first whose
 * `pattern` (RE2 syntax) matches decides the entry's type and level.
 */
export interface ClassifyRule {
  pattern: string;
  /** Entry type; defaults to `control` when `tool_call` is set, else `stdout`. */
  type?: EntryType;
  level?: Level;
  /**
   * The tool name for `metadata.tool_call`: a capture group number of `pattern`
   * (e.g. `1`), or a fixed name (e.g. `"shell"`).
   */
  tool_call?: number | string;
}

export interface LoupeConfig {
  classify: {
    /** Whether Loupe's default rules run after the configured ones (true), or not at all (false). */
    defaults: boolean;
    rules: ClassifyRule[];
  };
  /** Prompt rules for attention (SPEC §13): tried before Loupe's defaults, which `defaults: false` drops. */
  attention: {
    defaults: boolean;
    rules: PromptRule[];
  };
  /** Rotate a log past this many bytes; undefined means the writer's default. */
  rotateBytes?: number;
  /** Reserved for export redaction (issue 6): extra secret patterns, RE2 syntax. */
  redact?: { patterns: string[] };
  /** Prices per model (US dollars per million tokens) over Loupe's table (transcripts/prices.ts). */
  prices?: Record<string, ModelPrice>;
  /** Whether background import brings the agents' sessions into this root (default true; transcripts/backgroundImport.ts). */
  importTranscripts?: boolean;
}

/** A loaded config and where it came from (null: no file, built-in defaults). */
export interface LoadedConfig {
  config: LoupeConfig;
  file: string | null;
}

/** A config file the user must fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_CONFIG: LoupeConfig = Object.freeze({
  classify: Object.freeze({ defaults: true, rules: [] }),
  attention: Object.freeze({ defaults: true, rules: [] }),
}) as LoupeConfig;

/** The config files Loupe looks at for `root`, in the order it looks. */
export function configCandidates(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : null;
  const home = env.HOME || os.homedir();
  const userConfig = path.join(xdg ?? path.join(home, '.config'), 'loupe', 'config.json');
  return [path.join(path.resolve(root), ROOT_CONFIG_NAME), userConfig];
}

/**
 * Loads the config for `root`: `<root>/loupe.config.json`, else the user config file, else the
 * defaults. Throws ConfigError for unreadable JSON or a bad key (file, key and problem named).
 */
export function loadConfig(root: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  for (const file of configCandidates(root, env)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    return { config: parseConfig(text, file), file };
  }
  return { config: DEFAULT_CONFIG, file: null };
}

/** Parses and validates the text of a config file; `file` is only used in messages. */
export function parseConfig(text: string, file: string): LoupeConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
  const result = configSchema().safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      const key = formatKey([...issue.path, issue.keys[0]]);
      throw new ConfigError(`config file ${file}: key ${key}: unknown key; check its spelling (keys are case-sensitive)`);
    }
    const key = formatKey(issue.path);
    throw new ConfigError(`config file ${file}: ${key === '' ? 'the top level' : `key ${key}`}: ${issue.message}`);
  }
  const parsed = result.data;
  return {
    classify: { defaults: parsed.classify?.defaults ?? true, rules: parsed.classify?.rules ?? [] },
    attention: { defaults: parsed.attention?.defaults ?? true, rules: parsed.attention?.rules ?? [] },
    ...(parsed.rotateBytes !== undefined && { rotateBytes: parsed.rotateBytes }),
    ...(parsed.redact !== undefined && { redact: { patterns: parsed.redact.patterns ?? [] } }),
    ...(parsed.prices !== undefined && { prices: parsed.prices }),
    ...(parsed.importTranscripts !== undefined && { importTranscripts: parsed.importTranscripts }),
  };
}

/** `classify.rules[2].pattern` */
function formatKey(segments: readonly PropertyKey[]): string {
  let key = '';
  for (const s of segments) key += typeof s === 'number' ? `[${s}]` : key === '' ? String(s) : `.${String(s)}`;
  return key;
}

type Zod = typeof import('zod');

/**
 * zod is loaded only when a config file exists: it takes ~100 ms to import, and the capture
 * helper that every pane starts loads the classifier, usually without any config file.
 */
let schema: ReturnType<typeof buildSchema> | null = null;
function configSchema(): ReturnType<typeof buildSchema> {
  schema ??= buildSchema(createRequire(import.meta.url)('zod') as Zod);
  return schema;
}

function buildSchema({ z }: Zod) {
  const dollarsPerMillion = z.number().min(0, 'must be US dollars per million tokens, 0 or more');
  const regex = z.string().superRefine((pattern, ctx) => {
    const problem = regexProblem(pattern);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });
  const rule = z
    .strictObject({
      pattern: z.string().min(1, 'must be a non-empty regex (RE2 syntax)'),
      type: z.enum(ENTRY_TYPES).optional(),
      level: z.enum(LEVELS).optional(),
      tool_call: z.union([z.int().min(0), z.string().min(1)]).optional(),
    })
    .superRefine((r, ctx) => {
      const problem = regexProblem(r.pattern);
      if (problem !== null) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
        return;
      }
      if (typeof r.tool_call === 'number') {
        const groups = countGroups(r.pattern);
        if (r.tool_call > groups) {
          ctx.addIssue({
            code: 'custom',
            path: ['tool_call'],
            message: `capture group ${r.tool_call} does not exist: the pattern has ${groups} group(s)`,
          });
        }
      }
    });
  return z.strictObject({
    $schema: z.string().optional(),
    classify: z
      .strictObject({
        defaults: z.boolean().optional(),
        rules: z.array(rule).optional(),
      })
      .optional(),
    attention: z
      .strictObject({
        defaults: z.boolean().optional(),
        rules: z
          .array(
            z.strictObject({
              name: z.string().min(1, 'must name the rule (it is shown as the reason)').max(80),
              pattern: regex.refine((p) => p.length > 0, 'must be a non-empty regex (RE2 syntax)'),
              near: z.enum(['cursor', 'screen']).optional(),
              rows: z.int().min(1).max(200).optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    rotateBytes: z.int().min(4096, 'must be at least 4096 bytes').optional(),
    redact: z.strictObject({ patterns: z.array(regex).optional() }).optional(),
    prices: z
      .record(
        z.string().min(1, 'must name a model, as the transcript does (e.g. "gpt-5")'),
        z.strictObject({
          input: dollarsPerMillion,
          output: dollarsPerMillion,
          cacheRead: dollarsPerMillion,
          cacheWrite: dollarsPerMillion,
        }),
      )
      .optional(),
    importTranscripts: z.boolean('must be true or false').optional(),
  });
}

function regexProblem(pattern: string): string | null {
  try {
    compileUserRegex(pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The number of capture groups in an RE2 pattern (it compiled already). */
export function countGroups(pattern: string): number {
  return RE2JS.compile(pattern).groupCount();
}
