import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, configCandidates, loadConfig } from './config.js';

describe('loadConfig', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-config-'));
    env = { HOME: path.join(dir, 'home') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rootFile = () => path.join(dir, 'loupe.config.json');
  const userFile = (base: string) => path.join(base, 'loupe', 'config.json');
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };

  it('gives the defaults when there is no file', () => {
    expect(loadConfig(dir, env)).toEqual({ config: { classify: { defaults: true, rules: [] }, attention: { defaults: true, rules: [] } }, file: null });
  });

  it('prefers the root file over the user file', () => {
    write(rootFile(), JSON.stringify({ rotateBytes: 5000 }));
    write(userFile(path.join(dir, 'home', '.config')), JSON.stringify({ rotateBytes: 9000 }));
    expect(loadConfig(dir, env)).toEqual({
      config: { classify: { defaults: true, rules: [] }, attention: { defaults: true, rules: [] }, rotateBytes: 5000 },
      file: rootFile(),
    });
  });

  it('reads ~/.config/loupe/config.json, or $XDG_CONFIG_HOME/loupe/config.json when that is set', () => {
    write(userFile(path.join(dir, 'home', '.config')), JSON.stringify({ rotateBytes: 9000 }));
    expect(loadConfig(dir, env).config.rotateBytes).toBe(9000);
    const xdg = path.join(dir, 'xdg');
    write(userFile(xdg), JSON.stringify({ rotateBytes: 7000 }));
    expect(loadConfig(dir, { ...env, XDG_CONFIG_HOME: xdg }).config.rotateBytes).toBe(7000);
    expect(configCandidates(dir, { ...env, XDG_CONFIG_HOME: xdg })).toEqual([rootFile(), userFile(xdg)]);
  });

  it('keeps attention rules, to be tried before the defaults', async () => {
    write(rootFile(), JSON.stringify({ attention: { rules: [{ name: 'deploy', pattern: '^Deploy to prod\\?', near: 'cursor' }] } }));
    expect(loadConfig(dir, env).config.attention).toEqual({ defaults: true, rules: [{ name: 'deploy', pattern: '^Deploy to prod\\?', near: 'cursor' }] });
    const { promptRulesFor } = await import('../attention/rules.js');
    const { findPrompt } = await import('../attention/attention.js');
    expect(findPrompt({ rows: ['Deploy to prod? (y/n) '], cursorRow: 0 }, promptRulesFor(dir))?.rule).toBe('deploy');
    write(rootFile(), JSON.stringify({ attention: { defaults: false, rules: [] } }));
    expect(findPrompt({ rows: ['Continue? [y/N] '], cursorRow: 0 }, promptRulesFor(dir))).toBeNull();
  });

  it('keeps redaction patterns for export', () => {
    write(rootFile(), JSON.stringify({ redact: { patterns: ['sk_live_[A-Za-z0-9]+'] } }));
    expect(loadConfig(dir, env).config.redact).toEqual({ patterns: ['sk_live_[A-Za-z0-9]+'] });
  });

  it('keeps prices per model, in US dollars per million tokens', () => {
    const prices = { 'my-model': { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1.25 } };
    write(rootFile(), JSON.stringify({ prices }));
    expect(loadConfig(dir, env).config.prices).toEqual(prices);
  });

  it.each([
    ['{"prices": {"gpt-5": {"input": -1, "output": 1, "cacheRead": 0, "cacheWrite": 0}}}', /key prices\.gpt-5\.input: must be US dollars per million tokens/],
    ['{"prices": {"gpt-5": {"input": 1, "output": 1}}}', /key prices\.gpt-5\.cacheRead: /],
    ['{"prices": {"gpt-5": {"input": 1, "output": 1, "cacheRead": 0, "cacheWrite": 0, "per": "k"}}}', /key prices\.gpt-5\.per: unknown key/],
    ['{ "rotateBytes": 10', /is not valid JSON/],
    ['[]', /: the top level: .*expected object/],
    ['{"rotatebytes": 100000}', /key rotatebytes: unknown key/],
    ['{"rotateBytes": 12}', /key rotateBytes: must be at least 4096 bytes/],
    ['{"rotateBytes": "100MB"}', /key rotateBytes: /],
    ['{"classify": {"rules": [{"pattern": "x", "level": "loud"}]}}', /key classify\.rules\[0\]\.level: .*"error"/],
    ['{"classify": {"rules": [{"pattern": "x", "type": "out"}]}}', /key classify\.rules\[0\]\.type: /],
    ['{"classify": {"rules": [{"pattern": ""}]}}', /key classify\.rules\[0\]\.pattern: must be a non-empty regex/],
    ['{"classify": {"rules": [{"pattern": "a(?=b)"}]}}', /key classify\.rules\[0\]\.pattern: invalid regex "a\(\?=b\)"/],
    ['{"classify": {"rules": [{"pattern": "(a)", "tool_call": 2}]}}', /key classify\.rules\[0\]\.tool_call: capture group 2 does not exist/],
    ['{"classify": {"rules": [{"pattern": "a", "tool": 1}]}}', /key classify\.rules\[0\]\.tool: unknown key/],
    ['{"classify": {"defaults": "yes"}}', /key classify\.defaults: /],
    ['{"redact": {"patterns": ["("]}}', /key redact\.patterns\[0\]: invalid regex/],
    ['{"attention": {"rules": [{"name": "x", "pattern": "("}]}}', /key attention\.rules\[0\]\.pattern: invalid regex/],
    ['{"attention": {"rules": [{"pattern": "Deploy"}]}}', /key attention\.rules\[0\]\.name: /],
    ['{"attention": {"rules": [{"name": "x", "pattern": "a", "near": "top"}]}}', /key attention\.rules\[0\]\.near: /],
  ])('refuses %s with a message naming the file, the key and the problem', (text, message) => {
    write(rootFile(), text);
    let error: unknown;
    try {
      loadConfig(dir, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(rootFile());
    expect((error as Error).message).toMatch(message);
  });

  it('names the file when it cannot be read', () => {
    fs.mkdirSync(rootFile()); // a folder where the file should be: fails for root too
    expect(() => loadConfig(dir, env)).toThrow(/cannot read config file .*loupe\.config\.json/);
  });
});

describe('loupe run with a bad config', () => {
  it('refuses to start, naming the file, before any log or tmux session exists', async () => {
    const { runAgent } = await import('./session.js');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-config-run-'));
    fs.writeFileSync(path.join(root, 'loupe.config.json'), '{"classify": {"rules": [{"pattern": "("}]}}');
    const socket = `loupe-test-nosuchserver-${process.pid}`;
    await expect(runAgent({ root, socket, command: ['true'], startHost: false })).rejects.toThrow(ConfigError);
    await expect(runAgent({ root, socket, command: ['true'], startHost: false })).rejects.toThrow(/loupe\.config\.json/);
    expect(fs.existsSync(path.join(root, '.agent-workspace'))).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
