import { describe, expect, it } from 'vitest';
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { RunRedactor } from './redactor.js';

/** Secrets built at run time so this file does not itself trip secret scanners. */
const AWS_KEY = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
const GITHUB = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const GITHUB_PAT = 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL';
const GITLAB = 'glpat-' + 'xY7zA9bC3dE5fG1hJ2kL';
const SLACK = 'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const OPENAI = 'sk-proj-' + 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56';
const ANTHROPIC = 'sk-ant-api03-' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-dcBA';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9' +
  '.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0' +
  '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const BEARER = 'abcDEF123456ghiJKL789mno';
const GIT_SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const UUID = '123e4567-e89b-12d3-a456-426614174000';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

let seq = 0;
function entry(content: string, partial = false, type: LogEntry['type'] = 'stdout'): LogEntry {
  const e: LogEntry = { timestamp: '2026-11-21T10:00:00.000000+00:00', agent_id: 'a', type, sequence: ++seq, content };
  if (partial) e.metadata = { partial: true };
  return e;
}

function redactAll(entries: LogEntry[], redactor = new RunRedactor()): { entries: LogEntry[]; redactor: RunRedactor } {
  const out = entries.flatMap((e) => redactor.push(e));
  out.push(...redactor.end());
  return { entries: out, redactor };
}

function redactText(text: string): { text: string; counts: Record<string, number> } {
  const { entries, redactor } = redactAll(text.split('\n').map((line) => entry(line)));
  return { text: entries.map((e) => e.content).join('\n'), counts: redactor.counts };
}

const positives: [kind: string, line: string, secret: string][] = [
  ['aws-access-key', `export AWS_ACCESS_KEY_ID_VALUE ${AWS_KEY} done`, AWS_KEY],
  ['aws-secret-key', `aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET],
  ['github-token', `git push https://x@github.com using ${GITHUB}`, GITHUB],
  ['github-token', `token: ${GITHUB_PAT}`, GITHUB_PAT],
  ['gitlab-token', `GITLAB ${GITLAB} ok`, GITLAB],
  ['slack-token', `slack ${SLACK}`, SLACK],
  ['openai-key', `using key ${OPENAI} now`, OPENAI],
  ['anthropic-key', `using key ${ANTHROPIC} now`, ANTHROPIC],
  ['jwt', `cookie session=${JWT}; Path=/`, JWT],
  ['bearer-token', `curl -H "Authorization: Bearer ${BEARER}" https://api.example.com`, BEARER],
  ['url-password', 'cloning https://deploy:hunter2pass@git.example.com/repo.git', 'hunter2pass'],
  ['url-password', 'DATABASE postgres://app:s3cr3t!x@db:5432/app', 's3cr3t!x'],
  ['secret-assignment', 'export DB_PASSWORD=correct-horse-battery', 'correct-horse-battery'],
  ['secret-assignment', 'MY_SERVICE_API_KEY="q9w8e7r6t5"', 'q9w8e7r6t5'],
  ['secret-assignment', 'client_secret=Zm9vYmFyYmF6', 'Zm9vYmFyYmF6'],
  ['secret-assignment', '{"refresh_token": "rt-1a2b3c4d5e"}', 'rt-1a2b3c4d5e'],
];

const negatives: [what: string, line: string][] = [
  ['a git SHA', `commit ${GIT_SHA} (HEAD -> main)`],
  ['a short git SHA', `[main 9fceb02] fix the parser`],
  ['a UUID', `request id ${UUID}`],
  ['a sha256 sum', `${SHA256}  package.tar.gz`],
  ['an AWS-like word that is too short', 'AKIA123 is not a key'],
  ['prose about bearer tokens', 'The bearer of this message uses Bearer tokens everywhere'],
  ['a token count', 'max_tokens=4096 total tokens: 1532'],
  ['a reference to a secret', 'export GITHUB_TOKEN=$GH_TOKEN'],
  ['a URL with a user and no password', 'https://user@example.com/x and git@github.com:org/repo.git'],
  ['a URL with a port', 'http://localhost:8080/path'],
  ['an sk- word that is short', 'the sk-learn package and task-list'],
  ['an sk- package name made of words', 'pip install sk-video-processing-toolkit-extras'],
  ['a PEM public key', '-----BEGIN PUBLIC KEY-----'],
  ['an eyJ word without dots', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 alone'],
];

describe('redaction corpus', () => {
  it.each(positives)('redacts a %s', (kind, line, secret) => {
    const { text, counts } = redactText(line);
    expect(text).not.toContain(secret);
    expect(text).toContain(`[REDACTED:${kind}]`);
    expect(counts[kind]).toBe(1);
  });

  it.each(negatives)('leaves %s alone', (_what, line) => {
    const { text, counts } = redactText(line);
    expect(text).toBe(line);
    expect(counts).toEqual({});
  });

  it('keeps the readable part of a line around the secret', () => {
    expect(redactText(`export DB_PASSWORD=hunter22 && echo ok`).text).toBe(
      'export DB_PASSWORD=[REDACTED:secret-assignment] && echo ok',
    );
    expect(redactText(`curl -H "Authorization: Bearer ${BEARER}" x`).text).toBe(
      'curl -H "Authorization: Bearer [REDACTED:bearer-token]" x',
    );
  });

  it('reports a specific kind rather than a generic assignment', () => {
    const { text, counts } = redactText(`GITHUB_TOKEN=${GITHUB}`);
    expect(text).toBe('GITHUB_TOKEN=[REDACTED:github-token]');
    expect(counts).toEqual({ 'github-token': 1 });
  });

  it('counts several secrets on one line by kind', () => {
    const { counts } = redactText(`${AWS_KEY} ${AWS_KEY} ${OPENAI}`);
    expect(counts).toEqual({ 'aws-access-key': 2, 'openai-key': 1 });
  });
});

describe('secrets inside ANSI colors', () => {
  it('redacts a colored secret and keeps its escape sequences intact', () => {
    const line = `key: \x1b[1;31m${AWS_KEY}\x1b[0m end`;
    const { text } = redactText(line);
    expect(text).toBe('key: \x1b[1;31m[REDACTED:aws-access-key]\x1b[0m end');
  });

  it('redacts a secret whose characters are split by color changes', () => {
    const line = `x ${AWS_KEY.slice(0, 6)}\x1b[32m${AWS_KEY.slice(6, 12)}\x1b[38;2;1;2;3m${AWS_KEY.slice(12)}\x1b[0m y`;
    const { text } = redactText(line);
    expect(text).toBe('x [REDACTED:aws-access-key]\x1b[32m\x1b[38;2;1;2;3m\x1b[0m y');
  });

  it('E7: reads 8-bit C1 sequences like their 7-bit forms (CSI colors inside a secret, an OSC 52 beside it)', () => {
    const line = `x ${AWS_KEY.slice(0, 6)}\u009b32m${AWS_KEY.slice(6)}\u009b0m \u009d52;c;aGVsbG8=\u009c y`;
    const { text } = redactText(line);
    expect(text).toBe('x [REDACTED:aws-access-key]\u009b32m\u009b0m \u009d52;c;aGVsbG8=\u009c y');
  });

  it('does not take escape sequence bytes for secret text', () => {
    // "[31m" between a name and its value must not become part of the value.
    const line = 'API_TOKEN=\x1b[33mtok-123abc\x1b[0m';
    const { text } = redactText(line);
    expect(text).toBe('API_TOKEN=\x1b[33m[REDACTED:secret-assignment]\x1b[0m');
  });
});

describe('secrets inside escape sequences', () => {
  it('redacts a password in an OSC 8 link target and keeps the link well-formed', () => {
    const line = 'see \x1b]8;;https://bot:hunter2pass@ci.example.com/job\x07the job\x1b]8;;\x07 now';
    const { text, counts } = redactText(line);
    expect(text).toBe('see \x1b]8;;https://bot:[REDACTED:url-password]@ci.example.com/job\x07the job\x1b]8;;\x07 now');
    expect(counts).toEqual({ 'url-password': 1 });
  });

  it('leaves an ordinary window title alone', () => {
    const line = '\x1b]0;build: 9fceb02d0ae598e95dc970b74767f19372d61af8\x1b\\done';
    expect(redactText(line).text).toBe(line);
  });
});

describe('secrets split across entries', () => {
  it('catches a secret split across a partial entry and its continuation', () => {
    const { entries, redactor } = redactAll([
      entry(`aws ${AWS_KEY.slice(0, 9)}`, true),
      entry(`${AWS_KEY.slice(9)} tail`),
    ]);
    expect(entries.map((e) => e.content)).toEqual(['aws [REDACTED:aws-access-key]', ' tail']);
    expect(entries.map((e) => e.metadata?.partial)).toEqual([true, undefined]);
    expect(redactor.counts).toEqual({ 'aws-access-key': 1 });
  });

  it('catches a secret split over three chunks with an escape sequence cut in two', () => {
    const { entries } = redactAll([
      entry(`token ${OPENAI.slice(0, 10)}\x1b[3`, true),
      entry(`1m${OPENAI.slice(10, 20)}`, true),
      entry(`${OPENAI.slice(20)}\x1b[0m`),
    ]);
    const stream = entries.map(entryTerminalText).join('');
    expect(stream).toBe('token [REDACTED:openai-key]\x1b[31m\x1b[0m\n');
    expect(entries.map((e) => e.sequence)).toEqual(entries.map((e) => e.sequence).sort((a, b) => a - b));
  });

  it('keeps system entries in order between the chunks of a line', () => {
    const resize = entry('[loupe] resized', false, 'system');
    const { entries } = redactAll([entry(`${GITHUB.slice(0, 20)}`, true), resize, entry(GITHUB.slice(20))]);
    expect(entries.map((e) => e.type)).toEqual(['stdout', 'system', 'stdout']);
    expect(entries.map((e) => e.content).join('')).toBe('[REDACTED:github-token][loupe] resized');
  });

  it('redacts a PEM private key block that spans many lines and counts it once', () => {
    const pem = [
      'cat id_rsa',
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bn5Z1ZLp1aaaaaaaaaaaaaaaaaaaa',
      'bBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBb/+==',
      '-----END RSA PRIVATE KEY-----',
      'done',
    ].join('\n');
    const { text, counts } = redactText(pem);
    expect(text).toBe(
      ['cat id_rsa', '-----BEGIN RSA PRIVATE KEY-----', '[REDACTED:private-key]', '', '-----END RSA PRIVATE KEY-----', 'done'].join('\n'),
    );
    expect(counts).toEqual({ 'private-key': 1 });
  });

  it('redacts a PEM key printed on one line with escaped newlines', () => {
    const { text, counts } = redactText('"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----"');
    expect(text).toBe('"-----BEGIN PRIVATE KEY-----[REDACTED:private-key]-----END PRIVATE KEY-----"');
    expect(counts).toEqual({ 'private-key': 1 });
  });

  it('redacts secrets in metadata such as the started command', () => {
    const e = entry('[loupe] started', false, 'system');
    e.metadata = { event: 'started', command: `env OPENAI_API_KEY=${OPENAI} codex` };
    const { entries } = redactAll([e]);
    expect(entries[0].metadata?.command).toBe('env OPENAI_API_KEY=[REDACTED:openai-key] codex');
    expect(e.metadata.command).toContain(OPENAI); // the input entry is not mutated
  });
});

describe('linear time', () => {
  it('handles a long line of identifier characters quickly', () => {
    const line = 'A'.repeat(200_000) + '=x';
    const started = performance.now();
    redactText(line);
    // Generous bound: a quadratic scan of this line would take minutes.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
