import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import stripAnsi from 'strip-ansi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { readAllEntries } from '../log/reader.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { exportRun, exportRunToFile, ExportError, previewExport, type ExportOptions, type ExportProgress } from './exportRun.js';
import { makeTempRoot, readJsonl, TEST_RUN_START_MICROS, writeTestRun, type TestEntry } from './testRuns.js';

const AWS_KEY = 'AKIA' + 'IOSFODNN7EXAMPLE';

let root: string;
beforeEach(() => {
  root = makeTempRoot();
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function exportToString(options: ExportOptions): Promise<{ text: string; buffer: Buffer; summary: Awaited<ReturnType<typeof exportRun>> }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const summary = await exportRun(options, out);
  const buffer = Buffer.concat(chunks);
  return { text: buffer.toString('utf8'), buffer, summary };
}

const sampleRun: TestEntry[] = [
  { content: '\x1b[1;32m$ npm test\x1b[0m' },
  { content: 'running 3 suites', metadata: { level: 'info' } },
  { content: 'progress 10%\r', metadata: { partial: true } },
  { content: 'progress 100%' },
  { type: 'stderr', content: '\x1b[31mError: expected 2, got 3\x1b[0m', metadata: { level: 'error' } },
  { type: 'system', content: '[loupe] resized', metadata: { event: 'resized', cols: 100, rows: 30 } },
  { content: 'warning: flaky test', metadata: { level: 'warn' } },
  { content: 'done' },
];

async function storedEntries(file: string): Promise<LogEntry[]> {
  return (await readAllEntries(file)).map((r) => r.entry);
}

describe('formats', () => {
  it('jsonl holds the entries as stored, sequences kept', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const { text, summary } = await exportToString({ agents: [log], format: 'jsonl' });
    expect(readJsonl(text)).toEqual(await storedEntries(log.file));
    expect(text).toBe(fs.readFileSync(log.file, 'utf8'));
    expect(summary.entries).toBe(sampleRun.length + 1);
    expect(summary.redactions).toEqual({});
  });

  it('ansi is the exact terminal byte stream', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const { text } = await exportToString({ agents: [log], format: 'ansi' });
    const expected = (await storedEntries(log.file)).map(entryTerminalText).join('');
    expect(text).toBe(expected);
    expect(text).toContain('progress 10%\rprogress 100%\n');
  });

  it('text is the byte stream without escape sequences, even one cut across chunks', async () => {
    const log = writeTestRun(root, 'agent-1', [
      { content: 'red \x1b[3', metadata: { partial: true } },
      { content: '1mtext\x1b[0m and \x1b]0;title\x07plain' },
    ]);
    const { text } = await exportToString({ agents: [log], format: 'text' });
    expect(text).toBe('red text and plain\n');
    expect(text).toBe(stripAnsi('red \x1b[31mtext\x1b[0m and \x1b]0;title\x07plain\n'));
  });

  it('html is escaped, colored and carries a CSP that allows no script', async () => {
    const log = writeTestRun(root, 'agent-1', [
      { content: '\x1b[31m<script>window.pwned=1</script>\x1b[0m & "quotes"' },
      { content: '<img src=x onerror=alert(1)>' },
    ]);
    const { text } = await exportToString({ agents: [log], format: 'html' });
    expect(text).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"`);
    expect(text).toContain('<span style="color:#cd3131">&#60;script&#62;window.pwned=1&#60;/script&#62;</span>');
    expect(text).not.toMatch(/<script|<img/i);
    expect(text).toContain('&#38; &#34;quotes&#34;');
  });

  it('html shows a progress bar in its final state', async () => {
    const log = writeTestRun(root, 'agent-1', [{ content: 'progress 10%\rprogress 100%\x1b[K' }]);
    const { text } = await exportToString({ agents: [log], format: 'html' });
    expect(text).toContain('<pre>progress 100%\n</pre>');
  });

  it('cast has a header with the size at the start, output, resize and error marker events', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const { text } = await exportToString({ agents: [log], format: 'cast', title: 'my run' });
    const [header, ...events] = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(header).toEqual({
      version: 2,
      width: 80,
      height: 24,
      timestamp: TEST_RUN_START_MICROS / 1e6,
      title: 'my run',
      env: { TERM: 'xterm-256color' },
    });
    expect(events.filter((e) => e[1] === 'r')).toEqual([[0.6, 'r', '100x30']]);
    expect(events.filter((e) => e[1] === 'm')).toEqual([[0.5, 'm', 'Error: expected 2, got 3']]);
    const output = events.filter((e) => e[1] === 'o');
    expect(output.map((e) => e[2]).join('')).toBe((await storedEntries(log.file)).map(entryTerminalText).join(''));
    const times = events.map((e) => e[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('replay-html embeds the run compressed, with a hash-based script CSP and no raw content', async () => {
    const log = writeTestRun(root, 'agent-1', [{ content: '</script><script>alert(1)</script><!--' }]);
    const { text } = await exportToString({ agents: [log], format: 'replay-html' });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(text)?.[1] ?? '';
    expect(csp).toMatch(/^default-src 'none'; script-src( 'sha256-[^']+'){5}; style-src 'unsafe-inline'/);
    expect(text).not.toContain('alert(1)');
    const b64 = /id="loupe-run">\n([A-Za-z0-9+/=\n]+)<\/script>/.exec(text)?.[1] ?? '';
    const lines = zlib.gunzipSync(Buffer.from(b64.replace(/\n/g, ''), 'base64')).toString('utf8').trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed[0]).toEqual({ title: `agent-1 (${log.taskId})` });
    expect(parsed[1]).toMatchObject({ agent: 'agent-1', task: log.taskId, cols: 80, rows: 24 });
    expect(parsed).toContainEqual([100, 'o', '</script><script>alert(1)</script><!--\n']);
    expect(parsed[parsed.length - 1]).toEqual({ redaction: 'no secrets found' });
  });

  it('gzip applies to any format', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const plain = await exportToString({ agents: [log], format: 'ansi' });
    const gz = await exportToString({ agents: [log], format: 'ansi', gzip: true });
    expect(zlib.gunzipSync(gz.buffer).toString('utf8')).toBe(plain.text);
    expect(gz.summary.bytes).toBe(gz.buffer.length);
  });
});

describe('redaction in exports', () => {
  it('is on by default, in every format, and counts by kind', async () => {
    const log = writeTestRun(root, 'agent-1', [
      { content: `export AWS_ACCESS_KEY_ID=${AWS_KEY}` },
      { content: 'postgres://app:pa55word@db/app' },
    ]);
    for (const format of ['jsonl', 'text', 'ansi', 'html', 'cast'] as const) {
      const { text, summary } = await exportToString({ agents: [log], format });
      expect(text, format).not.toContain(AWS_KEY);
      expect(text, format).not.toContain('pa55word');
      expect(summary.redactions, format).toEqual({ 'aws-access-key': 1, 'url-password': 1 });
    }
  });

  it('is off with redact: false', async () => {
    const log = writeTestRun(root, 'agent-1', [{ content: `key ${AWS_KEY}` }]);
    const { text, summary } = await exportToString({ agents: [log], format: 'text', redact: false });
    expect(text).toContain(AWS_KEY);
    expect(summary.redactions).toBeNull();
  });

  it('uses the user patterns from the config', async () => {
    const log = writeTestRun(root, 'agent-1', [{ content: 'internal ticket ACME-SECRET-42 here' }]);
    const { text, summary } = await exportToString({ agents: [log], format: 'text', redactPatterns: ['ACME-SECRET-\\d+'] });
    expect(text).toBe('internal ticket [REDACTED:custom] here\n');
    expect(summary.redactions).toEqual({ custom: 1 });
  });

  it('catches a secret whose first chunk is outside the slice', async () => {
    const log = writeTestRun(root, 'agent-1', [
      { content: `key ${AWS_KEY.slice(0, 8)}`, metadata: { partial: true } },
      { content: `${AWS_KEY.slice(8)} end` },
    ]);
    const { text } = await exportToString({ agents: [log], format: 'jsonl', slice: { fromSeq: 3 } });
    const entries = readJsonl(text);
    expect(entries.map((e) => e.sequence)).toEqual([3]);
    expect(entries[0].content).toBe(' end');
  });
});

describe('slices', () => {
  it('selects by sequence range, time range, type, level and regex', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const seqs = async (options: Partial<ExportOptions>) =>
      readJsonl((await exportToString({ agents: [log], format: 'jsonl', ...options })).text).map((e) => e.sequence);
    expect(await seqs({ slice: { fromSeq: 3, toSeq: 5 } })).toEqual([3, 4, 5]);
    expect(await seqs({ slice: { sinceMicros: TEST_RUN_START_MICROS + 300_000, untilMicros: TEST_RUN_START_MICROS + 500_000 } })).toEqual([4, 5, 6]);
    expect(await seqs({ slice: { filter: { types: ['stderr', 'system'] } } })).toEqual([1, 6, 7]);
    expect(await seqs({ slice: { filter: { minLevel: 'warn' } } })).toEqual([6, 8]);
    expect(await seqs({ slice: { filter: { regex: compileUserRegex('progress \\d+%') } } })).toEqual([4, 5]);
  });

  it('a cast of a slice starts at the size in effect at its first entry', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const { text } = await exportToString({ agents: [log], format: 'cast', slice: { fromSeq: 8 } });
    const header = JSON.parse(text.split('\n')[0]);
    expect([header.width, header.height]).toEqual([100, 30]);
  });
});

describe('tasks', () => {
  it('exports every agent of a task in one jsonl file', async () => {
    const a = writeTestRun(root, 'agent-a', [{ content: 'from a' }]);
    const b = writeTestRun(root, 'agent-b', [{ content: 'from b' }]);
    const { text, summary } = await exportToString({ agents: [a, b], format: 'jsonl' });
    expect(readJsonl(text).map((e) => `${e.agent_id}#${e.sequence}`)).toEqual(['agent-a#1', 'agent-a#2', 'agent-b#1', 'agent-b#2']);
    expect(summary.agents).toBe(2);
  });

  it('puts each agent under its own heading in text, ansi and html', async () => {
    const a = writeTestRun(root, 'agent-a', [{ content: 'from a' }]);
    const b = writeTestRun(root, 'agent-b', [{ content: 'from b' }]);
    const text = await exportToString({ agents: [a, b], format: 'text' });
    expect(text.text).toBe('==> agent-a <==\nfrom a\n==> agent-b <==\nfrom b\n');
    const ansi = await exportToString({ agents: [a, b], format: 'ansi' });
    expect(ansi.text).toBe(text.text);
    const html = await exportToString({ agents: [a, b], format: 'html' });
    expect(html.text.match(/<section><h2>agent-[ab] /g)).toEqual(['<section><h2>agent-a ', '<section><h2>agent-b ']);
    expect(html.text).toContain('<title>TASK-20261121-100000-0a1b2c3d (2 agents)</title>');
  });

  it('refuses a task as one cast and says what to do instead', async () => {
    const a = writeTestRun(root, 'agent-a', [{ content: 'a' }]);
    const b = writeTestRun(root, 'agent-b', [{ content: 'b' }]);
    await expect(exportToString({ agents: [a, b], format: 'cast' })).rejects.toThrow(ExportError);
    await expect(exportToString({ agents: [a, b], format: 'cast' })).rejects.toThrow(/replay-html/);
  });
});

describe('rotated logs', () => {
  it('exports the rotated .gz files first, then the live file, with no entry lost', async () => {
    const { ensureLogsDir, streamPath, rotatedFiles } = await import('../log/paths.js');
    const { LogWriter } = await import('../log/writer.js');
    ensureLogsDir(root, 'TASK-20261121-100000-0a1b2c3d');
    const file = streamPath(root, 'TASK-20261121-100000-0a1b2c3d', 'rotating');
    const writer = new LogWriter(file, { agentId: 'rotating', rotateBytes: 2000 });
    for (let i = 1; i <= 100; i++) {
      writer.append({ type: 'stdout', content: `line ${i} ${'x'.repeat(50)}` });
      if (i % 10 === 0) writer.flush();
    }
    await writer.close();
    expect(rotatedFiles(file).filter((f) => f.endsWith('.gz')).length).toBeGreaterThan(1);
    const log = { root, taskId: 'TASK-20261121-100000-0a1b2c3d', agentId: 'rotating', file };
    const { text } = await exportToString({ agents: [log], format: 'jsonl' });
    expect(readJsonl(text).map((e) => e.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});

describe('preview and progress', () => {
  it('previews the entries and redactions an export would hold, writing nothing', async () => {
    const log = writeTestRun(root, 'agent-1', [{ content: `a ${AWS_KEY}` }, { content: 'b' }]);
    const before = fs.readdirSync(root);
    const preview = await previewExport({ agents: [log], slice: { fromSeq: 2 } });
    expect(preview).toMatchObject({ entries: 2, agents: 1, redactions: { 'aws-access-key': 1 } });
    expect(fs.readdirSync(root)).toEqual(before);
  });

  it('reports progress up to the whole log', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const seen: ExportProgress[] = [];
    await exportToString({ agents: [log], format: 'text', onProgress: (p) => seen.push(p) });
    const size = fs.statSync(log.file).size;
    expect(seen.at(-1)).toEqual({ bytesRead: size, totalBytes: size });
  });
});

describe('writing files', () => {
  it('writes the file whole, and leaves nothing behind when the folder is missing', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const out = path.join(root, 'out.jsonl');
    const summary = await exportRunToFile({ agents: [log], format: 'jsonl' }, out);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(log.file, 'utf8'));
    expect(summary.bytes).toBe(fs.statSync(out).size);
    expect(fs.readdirSync(root).filter((n) => n.includes('.tmp'))).toEqual([]);
    await expect(exportRunToFile({ agents: [log], format: 'jsonl' }, path.join(root, 'missing', 'out.jsonl'))).rejects.toThrow(
      /cannot write .*missing.*its folder does not exist/,
    );
  });

  it('reports a full disk as an export error', async () => {
    const log = writeTestRun(root, 'agent-1', sampleRun);
    const full = fs.createWriteStream('/dev/full');
    await expect(exportRun({ agents: [log], format: 'jsonl' }, full)).rejects.toThrow(/ENOSPC|no space/i);
  });
});
