import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileClassifier, createClassifier, DEFAULT_RULES, loadClassifier } from './classify.js';
import { ConfigError } from './config.js';

const classify = (line: string) => createClassifier()(line);

describe('default classification rules', () => {
  it.each([
    ['⏺ Bash(npm test)', 'Bash'],
    ['● Read(src/app.ts)', 'Read'],
    ['  ⏺ Update(src/parser.ts)', 'Update'],
    ['⏺ github - create_issue (MCP)(title: "x")', 'github - create_issue (MCP)'],
    ['• Ran npm test', 'shell'],
    ['• Edited src/app.ts (+3 -1)', 'apply_patch'],
    ['• Explored', 'explore'],
    ['• Called docs.search({"q":"x"})', 'docs.search'],
    ['Tool call: read_file {"path":"a"}', 'read_file'],
    ['Calling tool: web_search', 'web_search'],
    ['[tool] bash ls -la', 'bash'],
    ['{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_01","name":"Edit","input":{}}]}}', 'Edit'],
    ['\x1b[1m⏺\x1b[0m \x1b[1mGrep\x1b[0m(pattern: "TODO")', 'Grep'],
  ])('reads %j as a call of tool %j', (line, tool) => {
    expect(classify(line)).toEqual({ type: 'control', metadata: { tool_call: tool } });
  });

  it.each([
    ['\r⠋ Thinking…\r⠙ Thinking…\r\x1b[K⏺ Bash(npm test)', { type: 'control', metadata: { tool_call: 'Bash' } }],
    ['Error: disk full\r', { type: 'stderr', metadata: { level: 'error' } }],
    ['Error: shown briefly\rall good now', { type: 'stdout' }],
  ])('classifies what stays visible of %j after its carriage returns', (line, expected) => {
    expect(classify(line)).toEqual(expected);
  });

  it.each([
    '⏺ I will fix the failing test first.',
    '● All done',
    '• I updated the parser',
    'the tool call failed earlier',
    '{"type":"text","text":"tool_use"}',
  ])('does not read %j as a tool call', (line) => {
    expect(classify(line).type).not.toBe('control');
  });

  it.each([
    'Traceback (most recent call last):',
    'ValueError: invalid literal for int()',
    'Error: Cannot find module "x"',
    'java.lang.IllegalStateException: closed',
    'src/main.c:12:5: error: expected ";" before "}"',
    'error[E0308]: mismatched types',
    '2026-01-01 12:00:00 ERROR request failed',
    'npm ERR! code ELIFECYCLE',
    'panic: runtime error: index out of range',
    "thread 'main' panicked at src/main.rs:3:5",
    'Exception in thread "main" java.lang.NullPointerException',
    'FAILED tests/test_parse.py::test_empty - AssertionError',
    ' FAIL  src/routes/users.test.ts',
    'npm error code E404',
    '  error: could not compile `demo` (bin "demo") due to 2 previous errors',
    '\x1b[31mError\x1b[0m: boom',
    '\x1b]8;;file:///app/x.py\x07x.py\x1b]8;;\x07: \x1b[1;31mValueError\x1b[0m: bad',
    '\x1b(B\x1b[mERROR\x1b(B\x1b[m request failed',
    '\x1b]0;title\x1b\\Error: after a title',
  ])('marks %j as an error on stderr', (line) => {
    expect(classify(line)).toEqual({ type: 'stderr', metadata: { level: 'error' } });
  });

  it.each([
    'fatal: not a git repository (or any of the parent directories): .git',
    'FATAL: database is locked',
    'PHP Fatal error: Uncaught Exception',
    'Segmentation fault (core dumped)',
  ])('marks %j as fatal on stderr', (line) => {
    expect(classify(line)).toEqual({ type: 'stderr', metadata: { level: 'fatal' } });
  });

  it.each([
    "src/main.c:40:9: warning: unused variable 'n' [-Wunused-variable]",
    'Warning: peer dependency missing',
    'npm WARN deprecated request@2.88.2',
    '[WARNING] Using platform encoding',
    '/app/x.py:3: DeprecationWarning: datetime.utcnow() is deprecated',
    '[warn] slow query',
    '⚠ 3 files skipped',
  ])('marks %j as a warning on stdout', (line) => {
    expect(classify(line)).toEqual({ type: 'stdout', metadata: { level: 'warn' } });
  });

  it.each([
    'Compiling loupe v0.1.0',
    'errors: 0, warnings: 0',
    'no errors found',
    'Error handling was improved in this release',
    'the panic button',
    'error_count=0',
    '+    return res.status(400).json({ error: "name is required" });',
    '{"level":"info","error":null}',
    'Warnings are shown in yellow',
    '',
    '\r⠋ Thinking…\r⠙ Thinking…',
  ])('leaves %j as plain stdout', (line) => {
    expect(classify(line)).toEqual({ type: 'stdout' });
  });

  it('marks the indented frames of a traceback and its exception line as errors, then stops', () => {
    const c = createClassifier();
    const lines = [
      'Running the parser',
      'Traceback (most recent call last):',
      '  File "/app/main.py", line 10, in <module>',
      '    main()',
      '  File "/app/main.py", line 6, in main',
      '    parse(open(path).read())',
      'parser.ParseFailure: unexpected token at 3:14',
      'Retrying in 5 seconds',
      '    indented but ordinary',
    ];
    expect(lines.map((l) => c(l).metadata?.level ?? '-')).toEqual(['-', 'error', 'error', 'error', 'error', 'error', 'error', '-', '-']);
  });

  it('follows a chained traceback across its blank line', () => {
    const c = createClassifier();
    const levels = [
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      'KeyError: 1',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "a.py", line 3, in <module>',
      'RuntimeError: wrapped',
      'done',
    ].map((l) => c(l).metadata?.level ?? '-');
    expect(levels).toEqual(['error', 'error', 'error', '-', '-', '-', 'error', 'error', 'error', '-']);
  });

  it('keeps traceback state per classifier, so agents sharing compiled rules do not mix', () => {
    const make = compileClassifier();
    const a = make();
    const b = make();
    expect(a('Traceback (most recent call last):').metadata?.level).toBe('error');
    expect(b('  indented output of another agent')).toEqual({ type: 'stdout' });
    expect(a('  File "a.py", line 1, in <module>').metadata?.level).toBe('error');
  });

  it('returns frozen shared results, so a caller cannot corrupt later lines', () => {
    const result = classify('Error: x');
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.metadata)).toBe(true);
  });

  it('keeps every default rule valid RE2 syntax, so users can copy them into a config file', async () => {
    const { compileUserRegex } = await import('../regex/userRegex.js');
    for (const rule of DEFAULT_RULES) expect(() => compileUserRegex(rule.pattern)).not.toThrow();
  });

  it('classifies a 1 MB line of word characters in linear time', () => {
    const c = createClassifier();
    const started = performance.now();
    expect(c('A' + 'a'.repeat(1 << 20))).toEqual({ type: 'stdout' });
    expect(c('x'.repeat(1 << 20) + 'Warning')).toEqual({ type: 'stdout' });
    // Generous for a shared 2-core machine; a quadratic rule takes minutes here.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('prints its throughput on typical build output', () => {
    const c = createClassifier();
    const lines = Array.from({ length: 50_000 }, (_, i) =>
      i % 40 === 0
        ? `src/mod${i}.c:12:3: warning: unused variable 'x${i}'`
        : `  \x1b[32mCompiling\x1b[0m module ${i} of 50000 (optimised, with debug info)`,
    );
    const started = performance.now();
    let errors = 0;
    for (const line of lines) if (c(line).metadata?.level === 'warn') errors++;
    const seconds = (performance.now() - started) / 1000;
    console.log(`classify: ${Math.round(lines.length / seconds).toLocaleString('en')} lines/s (ANSI-colored build log)`);
    expect(errors).toBe(lines.length / 40);
  });
});

describe('configured classification rules', () => {
  let dir: string;
  let env: { HOME?: string; XDG_CONFIG_HOME?: string };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-classify-'));
    env = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    // Keep the developer's own config file out of the test.
    process.env.HOME = path.join(dir, 'home');
    delete process.env.XDG_CONFIG_HOME;
  });
  afterEach(() => {
    process.env.HOME = env.HOME;
    if (env.XDG_CONFIG_HOME === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = env.XDG_CONFIG_HOME;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (value: unknown) =>
    fs.writeFileSync(path.join(dir, 'loupe.config.json'), typeof value === 'string' ? value : JSON.stringify(value));

  it('runs configured rules before the defaults', () => {
    writeConfig({
      classify: {
        rules: [
          { pattern: '^BUILD BROKEN', type: 'stderr', level: 'fatal' },
          { pattern: 'Error: expected in test', type: 'stdout', level: 'info' },
        ],
      },
    });
    const c = loadClassifier(dir);
    expect(c('BUILD BROKEN after 3 steps')).toEqual({ type: 'stderr', metadata: { level: 'fatal' } });
    expect(c('Error: expected in test output')).toEqual({ type: 'stdout', metadata: { level: 'info' } });
    expect(c('Error: real')).toEqual({ type: 'stderr', metadata: { level: 'error' } });
  });

  it('replaces the defaults when defaults is false', () => {
    writeConfig({ classify: { defaults: false, rules: [{ pattern: '(?i)oops', level: 'error' }] } });
    const c = loadClassifier(dir);
    expect(c('OOPS it broke')).toEqual({ type: 'stdout', metadata: { level: 'error' } });
    expect(c('Traceback (most recent call last):')).toEqual({ type: 'stdout' });
    expect(c('  File "a.py", line 1')).toEqual({ type: 'stdout' });
  });

  it('takes a tool name from a capture group or a fixed name', () => {
    writeConfig({
      classify: {
        rules: [
          { pattern: '^>> invoke (\\w+)', tool_call: 1 },
          { pattern: '^\\$ ', tool_call: 'shell', level: 'info' },
        ],
      },
    });
    const c = loadClassifier(dir);
    expect(c('>> invoke grep -r x')).toEqual({ type: 'control', metadata: { tool_call: 'grep' } });
    expect(c('$ ls -la')).toEqual({ type: 'control', metadata: { tool_call: 'shell', level: 'info' } });
  });

  it('uses the user config file when the root has none', () => {
    const xdg = path.join(dir, 'xdg');
    fs.mkdirSync(path.join(xdg, 'loupe'), { recursive: true });
    fs.writeFileSync(path.join(xdg, 'loupe', 'config.json'), JSON.stringify({ classify: { rules: [{ pattern: 'zzz', level: 'debug' }] } }));
    process.env.XDG_CONFIG_HOME = xdg;
    expect(loadClassifier(dir)('zzz')).toEqual({ type: 'stdout', metadata: { level: 'debug' } });
  });

  it('refuses a bad pattern, naming the file and the key', () => {
    writeConfig({ classify: { rules: [{ pattern: 'ok' }, { pattern: '(unclosed', level: 'error' }] } });
    expect(() => loadClassifier(dir)).toThrow(ConfigError);
    expect(() => loadClassifier(dir)).toThrow(
      new RegExp(`${path.join(dir, 'loupe.config.json').replace(/[.]/g, '\\.')}: key classify\\.rules\\[1\\]\\.pattern: invalid regex`),
    );
  });
});
