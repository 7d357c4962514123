/**
 * The kinds of secret Loupe redacts, each as a detector over one line of visible text.
 *
 * Every pattern is anchored on a literal prefix or uses bounded repetition, so a detector runs in
 * time linear in the line (a 64 KiB line of letters cannot make it backtrack for long). Detectors
 * are specific on purpose: there is no "high-entropy string" rule, because git SHAs, UUIDs and
 * sha256 sums fill agent output and must stay readable.
 */
import { compileUserRegex } from '../regex/userRegex.js';

/** A span of visible text to replace. */
export interface SecretSpan {
  start: number;
  end: number;
  kind: string;
}

/** Finds secrets of one kind in a line of visible text. */
export interface SecretDetector {
  kind: string;
  find(text: string): SecretSpan[];
}

/**
 * A detector from a global regex. With `group`, only that capture group is the secret (the rest,
 * such as `password=` or `Bearer `, stays readable).
 */
export function regexDetector(
  kind: string,
  pattern: RegExp,
  group = 0,
  accept: (match: RegExpExecArray) => boolean = () => true,
): SecretDetector {
  const flags = pattern.flags.includes('d') ? pattern.flags : pattern.flags + 'd';
  const re = new RegExp(pattern.source, flags.includes('g') ? flags : flags + 'g');
  return {
    kind,
    find(text) {
      const spans: SecretSpan[] = [];
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const range = m.indices?.[group];
        if (range !== undefined && range[1] > range[0] && accept(m)) {
          spans.push({ start: range[0], end: range[1], kind });
        }
      }
      return spans;
    },
  };
}

/** Names whose `=` value is a secret: `GITHUB_TOKEN=…`, `db_password=…`, `OPENAI_API_KEY=…`. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY/i;

/** Values that are clearly not secrets: numbers (`max_tokens=4096`), references (`$TOKEN`), already-masked text. */
function isPlaceholderValue(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '');
  return v.length === 0 || /^\d+$/.test(v) || /^[$%]/.test(v) || /^(\*+|x+|<[^>]*>|\[REDACTED[^\]]*\]|true|false|null|none)$/i.test(v);
}

/**
 * Keys are random base62: they have digits and capitals. Words joined by dashes
 * (`sk-video-processing-toolkit`) do not; a random 40-character key lacks either one with a
 * probability well under 1%.
 */
function looksRandom(token: string): boolean {
  return /\d/.test(token) && /[A-Z]/.test(token);
}

/**
 * The built-in detectors, most specific first: where two overlap, the earlier one wins, so
 * `GITHUB_TOKEN=ghp_…` is reported as a GitHub token rather than a generic assignment.
 */
export const BUILTIN_DETECTORS: readonly SecretDetector[] = [
  regexDetector('aws-access-key', /\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b/),
  regexDetector(
    'aws-secret-key',
    /\baws_?secret_?(?:access_?)?key["']?\s{0,3}[:=]\s{0,3}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/i,
    1,
  ),
  regexDetector('github-token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})\b/),
  regexDetector('gitlab-token', /\bgl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent)-[A-Za-z0-9_-]{20,250}/),
  regexDetector('slack-token', /\bxox[abposer]-[A-Za-z0-9-]{10,250}|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,250}/),
  regexDetector('anthropic-key', /\bsk-ant-[A-Za-z0-9_-]{20,250}/, 0, (m) => looksRandom(m[0])),
  regexDetector(
    'openai-key',
    /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,250}/,
    0,
    (m) => !m[0].startsWith('sk-ant-') && looksRandom(m[0]),
  ),
  regexDetector('jwt', /\beyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,1024}/),
  regexDetector(
    'private-key',
    /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----(.{1,65536}?)-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/,
    2,
  ),
  regexDetector('bearer-token', /\bauthorization["']?\s{0,3}[:=]\s{0,3}["']?(?:bearer|token|basic)\s{1,3}([A-Za-z0-9._~+/=-]{6,4096})/i, 1),
  regexDetector('bearer-token', /\bbearer\s{1,3}([A-Za-z0-9._~+/-]{16,4096}=*)/i, 1),
  regexDetector('url-password', /\b[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s:/@"'<>]{1,256}:([^\s@/"'<>]{1,256})@/, 1),
  regexDetector(
    'secret-assignment',
    /\b([A-Za-z_][A-Za-z0-9_.-]{0,80})\s{0,3}=\s{0,3}("[^"\n]{1,1024}"|'[^'\n]{1,1024}'|[^\s"'&;,]{1,1024})/,
    2,
    (m) => SECRET_NAME.test(m[1]) && !isPlaceholderValue(m[2]),
  ),
  regexDetector(
    'secret-assignment',
    /"([A-Za-z_][A-Za-z0-9_.-]{0,80})"\s{0,3}:\s{0,3}"([^"\n]{1,1024})"/,
    2,
    (m) => SECRET_NAME.test(m[1]) && !isPlaceholderValue(m[2]),
  ),
];

/**
 * Text that every built-in detector's match contains (case-insensitively). Most lines of agent
 * output hold none of it, and one scan for it is far cheaper than running every detector.
 */
export const BUILTIN_CANDIDATE =
  /AKIA|ASIA|ABIA|ACCA|AROA|AIDA|aws_?secret|gh[pousr]_|github_pat_|gl[a-z]{1,5}-|xox[a-z]-|hooks\.slack\.com|sk-|eyJ|PRIVATE KEY|bearer|authorization|:\/\/|SECRET|TOKEN|PASSW|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY/i;

/** The text that replaces a secret of `kind`. */
export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** The kind reported for matches of the user's own patterns (`redact.patterns` in loupe.config.json). */
export const CUSTOM_KIND = 'custom';

/**
 * A detector for a pattern from the user's config, in RE2 syntax: it runs in linear time, so no
 * pattern can hang an export. Throws RegexError (naming the pattern) when it does not compile.
 */
export function userPatternDetector(pattern: string): SecretDetector {
  const regex = compileUserRegex(pattern);
  return {
    kind: CUSTOM_KIND,
    find: (text) =>
      regex.findAll(text).filter((m) => m.length > 0).map((m) => ({ start: m.index, end: m.index + m.length, kind: CUSTOM_KIND })),
  };
}

/** The built-in detectors followed by the user's patterns. */
export function secretDetectors(userPatterns: readonly string[] = []): SecretDetector[] {
  return [...BUILTIN_DETECTORS, ...userPatterns.map(userPatternDetector)];
}
