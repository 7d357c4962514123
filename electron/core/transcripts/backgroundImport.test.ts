import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAgentLogs } from '../log/paths.js';
import { BackgroundImport } from './backgroundImport.js';
import { defaultSourceHomes } from './importer.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let base: string;
let home: string;
let codexHome: string;
let root: string;
let logged: string[];
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bg-import-'));
  home = path.join(base, 'home');
  codexHome = path.join(base, 'codex');
  root = path.join(base, 'work');
  fs.mkdirSync(path.join(root, 'app'), { recursive: true });
  logged = [];
});
afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/**
 * A background import into `roots`, looking in the homes of HOME=home and CODEX_HOME=codexHome,
 * on a clock that stands still (so every import takes no time, and a grown file is read at once).
 */
function importer(roots = [root]): BackgroundImport {
  const homes = defaultSourceHomes({ HOME: home, CODEX_HOME: codexHome });
  const now = Date.now();
  return new BackgroundImport({ roots: () => roots, homes: () => homes, log: (m) => logged.push(m), now: () => now });
}

/** A fixture as a session the agent wrote in its home, run in `cwd`. */
function writeSession(fixture: string, dest: string, cwd: string, lines?: number): string {
  const fixtureCwd = fixture.startsWith('codex') ? '/home/dev/api' : '/home/dev/proj';
  let text = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8').replaceAll(fixtureCwd, cwd);
  if (lines !== undefined) text = text.split('\n').slice(0, lines).join('\n') + '\n';
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, text);
  return dest;
}

const claudeFile = () => path.join(home, '.claude', 'projects', '-work-app', '7f3c2a10.jsonl');
const codexFile = () => path.join(codexHome, 'sessions', '2025', '11', '02', 'rollout-2025-11-02T10-00-00-019a4b2c.jsonl');
const agents = () => listAgentLogs(root).map((l) => l.agentId).sort();
const entries = (agentId: string) => fs.readFileSync(listAgentLogs(root).find((l) => l.agentId === agentId)!.file, 'utf8').trim().split('\n').length;

describe('background import', () => {
  it('brings sessions written after it started into the root that holds their folder', async () => {
    const bg = importer();
    expect(await bg.pass()).toEqual({ looked: 0, read: 0, imported: 0 });
    writeSession('claude-session.jsonl', claudeFile(), path.join(root, 'app'));
    writeSession('codex-rollout.jsonl', codexFile(), root);
    writeSession('claude-stream.jsonl', path.join(home, '.claude', 'projects', '-elsewhere', 'x.jsonl'), '/somewhere/else');
    expect(await bg.pass()).toMatchObject({ looked: 3, imported: 2 });
    expect(agents()).toEqual(['claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f', 'codex-019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b']);
    expect(logged.filter((m) => m.startsWith('imported '))).toHaveLength(2);
  });

  it('continues a growing session, and reads nothing while nothing changed', async () => {
    const bg = importer();
    const file = writeSession('codex-rollout.jsonl', codexFile(), root, 9);
    await bg.pass();
    const [agent] = agents();
    const before = entries(agent);
    expect(await bg.pass()).toEqual({ looked: 1, read: 0, imported: 0 });
    writeSession('codex-rollout.jsonl', file, root);
    expect(await bg.pass()).toEqual({ looked: 1, read: 1, imported: 1 });
    expect(entries(agent)).toBeGreaterThan(before);
    expect(agents()).toEqual([agent]);
  });

  it('looks at a session quiet for over an hour once every 12 passes, and still picks up its growth', async () => {
    const bg = importer();
    const file = writeSession('codex-rollout.jsonl', codexFile(), root, 9);
    const old = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(file, old, old);
    expect(await bg.pass()).toMatchObject({ looked: 1, imported: 1 });
    let looked = 0;
    for (let i = 0; i < 12; i++) looked += (await bg.pass()).looked;
    expect(looked).toBe(1);
    writeSession('codex-rollout.jsonl', file, root);
    let imported = 0;
    for (let i = 0; i < 12; i++) imported += (await bg.pass()).imported;
    expect(imported).toBe(1);
  });

  it('imports a session passed over before once a root that holds its folder is added', async () => {
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    const roots = [other];
    const bg = importer(roots);
    writeSession('claude-session.jsonl', claudeFile(), path.join(root, 'app'));
    expect(await bg.pass()).toMatchObject({ read: 1, imported: 0 });
    expect(await bg.pass()).toMatchObject({ read: 0 });
    roots.push(root);
    expect(await bg.pass()).toMatchObject({ read: 1, imported: 1 });
    expect(agents()).toEqual(['claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f']);
  });

  it('imports a growing session again only after 20 times what its last import took', async () => {
    let t = 0;
    const homes = () => defaultSourceHomes({ HOME: home, CODEX_HOME: codexHome });
    // Every look at the clock is a second later: the import took 1 s, so it waits 20 s.
    const bg = new BackgroundImport({ roots: () => [root], homes, log: () => {}, now: () => (t += 1000) });
    const file = writeSession('codex-rollout.jsonl', codexFile(), root, 9);
    expect(await bg.pass()).toMatchObject({ imported: 1 });
    writeSession('codex-rollout.jsonl', file, root);
    expect(await bg.pass()).toMatchObject({ looked: 1, read: 0 });
    let passes = 1;
    while ((await bg.pass()).imported === 0 && passes < 30) passes++;
    expect(passes).toBeGreaterThan(5);
    expect(passes).toBeLessThan(15);
  });

  it('puts a session into the deepest of nested roots, once', async () => {
    const inner = path.join(root, 'app');
    writeSession('claude-session.jsonl', claudeFile(), path.join(inner, 'src'));
    await importer([root, inner]).pass();
    expect(agents()).toEqual([]);
    expect(listAgentLogs(inner).map((l) => l.agentId)).toEqual(['claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f']);
  });

  it('imports nothing into a root whose config says "importTranscripts": false', async () => {
    fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ importTranscripts: false }));
    writeSession('claude-session.jsonl', claudeFile(), path.join(root, 'app'));
    expect(await importer().pass()).toEqual({ looked: 0, read: 0, imported: 0 });
    expect(agents()).toEqual([]);
    fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ importTranscripts: true }));
    expect(await importer().pass()).toMatchObject({ imported: 1 });
  });

  it('reports a broken file once, not on every pass', async () => {
    const bg = importer();
    const file = writeSession('claude-session.jsonl', claudeFile(), path.join(root, 'app'));
    await bg.pass();
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('Run the tests', 'Run no tests')); // rewritten: refused
    await bg.pass();
    fs.appendFileSync(file, '{"type":"user"}\n'); // changed, and refused for the same reason
    await bg.pass();
    await bg.pass();
    const problems = logged.filter((m) => m.startsWith('cannot import'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/rewritten/);
  });

  it('stops importing into a root whose config is broken, saying so once', async () => {
    fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ importTranscripts: 'no' }));
    writeSession('claude-session.jsonl', claudeFile(), path.join(root, 'app'));
    const bg = importer();
    await bg.pass();
    await bg.pass();
    expect(agents()).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/importTranscripts: must be true or false/);
  });
});
