/**
 * Links between terminal runs and agent transcripts (SPEC §14): a captured run whose pane ran
 * `claude` or `codex` is linked to the imported transcript (Claude Code) or rollout (Codex) of the
 * same agent whose working folder is the pane's and whose time range overlaps the run.
 *
 * Both sides are reduced to **sightings** (`agent_sightings`): an agent program of a kind, in a
 * folder, at a time, in one run of one Loupe agent.
 * - A terminal run has one when its command is the agent (`loupe run -- claude`, with the started
 *   entry's `cwd`) and one per `agent_process` entry the capture host wrote on finding the agent
 *   in the pane's process tree (capture/agentProcess.ts, with the process's own folder).
 * - An imported transcript has one: its started entry (`imported`, `cwd`, start time); a
 *   `claude -p --output-format stream-json` log counts as Claude's.
 *
 * Each transcript links to at most one terminal run (`run_links`): among the terminal sightings
 * of its kind and folder whose run overlaps it, the one whose agent appeared last before the
 * transcript began (two panes running `claude` in one folder each get their own session).
 * Everything here is derived from indexed entries, so `loupe reindex` rebuilds it.
 */
import { MAX_LINKED_TOOL_CALLS, type AgentRef, type LinkedRun, type LinkedToolCall, type RunLinks } from '../../../shared/ipc.js';
import { agentOfCommand, type AgentKind } from '../capture/agentProcess.js';
import { AGENT_TRANSCRIPT_FORMATS } from '../transcripts/session.js';
import type { Statement } from 'better-sqlite3';
import { TYPE_CODES, type IndexDb } from './schema.js';

/** Clock slack between a pane's capture and the agent's own timestamps (same machine, coarse detection). */
const SLACK_MICROS = 5_000_000;

interface Sighting {
  agent: number;
  run_seq: number;
  transcript: number;
  kind: AgentKind;
  cwd: string;
  /** When the agent was seen: a terminal's started or agent_process entry, a transcript's start. */
  ts: number;
  /** The run's time span: a terminal run's start to its end (far future while it runs), a transcript's first to last entry. */
  run_start: number;
  run_end: number;
}

interface RunSpan {
  first_seq: number;
  start_ts: number | null;
  end_ts: number | null;
  terminated: number;
}

/** Prepared statements per database: links are refreshed once per indexed agent, many times in a reindex. */
const statements = new WeakMap<IndexDb, Map<string, Statement>>();

function statement(db: IndexDb, sql: string): Statement {
  let cached = statements.get(db);
  if (cached === undefined) statements.set(db, (cached = new Map()));
  let prepared = cached.get(sql);
  if (prepared === undefined) cached.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

/** The agent whose record each transcript format is (`claude -p` stream-json logs are Claude's). */
const TRANSCRIPT_AGENTS: Partial<Record<string, AgentKind>> = { claude: 'claude', 'claude-stream': 'claude', codex: 'codex' };

/** A terminal run still going has no end yet. */
const OPEN_END = Number.MAX_SAFE_INTEGER;

/**
 * Rebuilds an agent's sightings from its events and runs, then the links that may have changed:
 * its own transcripts', and those of the transcripts its terminal runs overlap or were linked to.
 * Call inside the transaction that refreshed its runs. The work is bounded by the sightings near
 * the agent in folder and time, so a reindex of many sessions in one folder stays linear.
 */
export function refreshLinks(db: IndexDb, agent: number): void {
  const relink = new Map<string, Sighting>();
  const add = (t: Sighting) => relink.set(`${t.agent}:${t.run_seq}`, t);
  const transcriptSighting = statement(db, 'SELECT * FROM agent_sightings WHERE agent = ? AND run_seq = ? AND transcript = 1');
  // The transcripts linked to this agent's runs until now, wherever they are.
  for (const link of statement(db, 'SELECT transcript_agent AS agent, transcript_seq AS seq FROM run_links WHERE terminal_agent = ?').all(agent) as { agent: number; seq: number }[]) {
    const t = transcriptSighting.get(link.agent, link.seq) as Sighting | undefined;
    if (t !== undefined) add(t);
  }
  statement(db, 'DELETE FROM run_links WHERE transcript_agent = ? OR terminal_agent = ?').run(agent, agent);
  statement(db, 'DELETE FROM agent_sightings WHERE agent = ?').run(agent);
  const insert = statement(db, 
    'INSERT INTO agent_sightings (agent, run_seq, transcript, kind, cwd, ts, run_start, run_end) VALUES (@agent, @run_seq, @transcript, @kind, @cwd, @ts, @run_start, @run_end)',
  );
  const overlapping = statement(db, 
    `SELECT * FROM agent_sightings WHERE kind = @kind AND cwd = @cwd AND transcript = 1
     AND run_start <= @run_end + ${SLACK_MICROS} AND run_end >= @run_start - ${SLACK_MICROS}`,
  );
  for (const s of sightingsOf(db, agent)) {
    insert.run(s);
    if (s.transcript === 1) add(s);
    else for (const t of overlapping.all(s) as Sighting[]) add(t);
  }
  for (const t of relink.values()) relinkTranscript(db, t);
}

/** An agent's sightings, read from its system events (started, agent_process) and runs. */
function sightingsOf(db: IndexDb, agent: number): Sighting[] {
  const runs = statement(db, 'SELECT first_seq, start_ts, end_ts, terminated FROM runs WHERE agent = ? ORDER BY first_seq').all(agent) as RunSpan[];
  const runOf = (seq: number) => runs.filter((r) => r.first_seq <= seq).pop() ?? runs[0];
  const events = db
    .prepare(`SELECT seq, ts, event, metadata FROM events WHERE agent = ? AND event IN ('started', 'agent_process') ORDER BY seq`)
    .all(agent) as { seq: number; ts: number; event: string; metadata: string }[];
  const out: Sighting[] = [];
  const startedCwd = new Map<number, string>();
  const lastTs = lastEntryTime(db, agent);
  for (const ev of events) {
    const meta = JSON.parse(ev.metadata) as Record<string, unknown>;
    const run = runOf(ev.seq);
    if (run === undefined || run.start_ts === null) continue;
    const cwd = typeof meta.cwd === 'string' && meta.cwd !== '' ? meta.cwd : null;
    const base = { agent, run_seq: run.first_seq, ts: ev.ts };
    if (ev.event === 'started') {
      if (cwd === null) continue;
      startedCwd.set(run.first_seq, cwd);
      const imported = typeof meta.imported === 'string' ? TRANSCRIPT_AGENTS[meta.imported] : undefined;
      if (imported !== undefined) {
        // One run per transcript: it spans from its start to its last entry.
        out.push({ ...base, transcript: 1, kind: imported, cwd, run_start: run.start_ts, run_end: Math.max(run.start_ts, lastTs ?? run.start_ts) });
        continue;
      }
      const kind = meta.imported === undefined && typeof meta.command === 'string' ? agentOfCommand(meta.command.split(' ')) : null;
      if (kind !== null) out.push({ ...base, transcript: 0, kind, cwd, ...terminalSpan(runs, run) });
    } else if (meta.agent === 'claude' || meta.agent === 'codex') {
      const where = cwd ?? startedCwd.get(run.first_seq);
      if (where !== undefined) out.push({ ...base, transcript: 0, kind: meta.agent, cwd: where, ...terminalSpan(runs, run) });
    }
  }
  return out;
}

/** A terminal run's span: to its terminated entry, else to the next run's start, else open. */
function terminalSpan(runs: RunSpan[], run: RunSpan): { run_start: number; run_end: number } {
  const next = runs[runs.indexOf(run) + 1]?.start_ts ?? null;
  const end = run.terminated === 1 && run.end_ts !== null ? run.end_ts : (next ?? OPEN_END);
  return { run_start: run.start_ts!, run_end: end };
}

/**
 * Links one transcript to the terminal run of its agent and folder that overlaps it and whose
 * agent was seen there before the transcript ended: the one seen last before the transcript
 * began, else the first seen after.
 */
function relinkTranscript(db: IndexDb, t: Sighting): void {
  statement(db, 'DELETE FROM run_links WHERE transcript_agent = ? AND transcript_seq = ?').run(t.agent, t.run_seq);
  const candidates = db
    .prepare(
      `SELECT * FROM agent_sightings WHERE kind = @kind AND cwd = @cwd AND transcript = 0
       AND ts <= @run_end + ${SLACK_MICROS} AND run_start <= @run_end + ${SLACK_MICROS} AND run_end >= @run_start - ${SLACK_MICROS}`,
    )
    .all(t) as Sighting[];
  let best: { s: Sighting; score: number } | null = null;
  for (const s of candidates) {
    const score = s.ts <= t.run_start + SLACK_MICROS ? t.run_start - s.ts : OPEN_END / 2 + (s.ts - t.run_start);
    if (best === null || score < best.score) best = { s, score };
  }
  if (best !== null) {
    statement(db, 'INSERT INTO run_links (terminal_agent, terminal_seq, transcript_agent, transcript_seq) VALUES (?, ?, ?, ?)').run(best.s.agent, best.s.run_seq, t.agent, t.run_seq);
  }
}

/** The time of an agent's last indexed entry (µs), null for none. */
function lastEntryTime(db: IndexDb, agent: number): number | null {
  return (statement(db, 'SELECT ts FROM entries WHERE agent = ? ORDER BY seq DESC LIMIT 1').pluck().get(agent) as number | undefined) ?? null;
}

/** A run on the other side of a link. */
export interface LinkedRunRow {
  agent: number;
  runSeq: number;
}

/** A linked run by its names: task, agent and run number (1 for the agent's first). */
export function nameLinkedRun(db: IndexDb, row: LinkedRunRow): LinkedRun {
  const names = db.prepare('SELECT a.agent_id AS agentId, t.task_id AS taskId FROM agents a JOIN tasks t ON t.id = a.task WHERE a.id = ?').get(row.agent) as {
    agentId: string;
    taskId: string;
  };
  const run = db.prepare('SELECT count(*) FROM runs WHERE agent = ? AND first_seq <= ?').pluck().get(row.agent, row.runSeq) as number;
  return { ...names, run: Math.max(1, run) };
}

const CONTROL_TYPE = TYPE_CODES.indexOf('control');

/**
 * What the replay of `ref` links to (the `index:links` channel): the linked runs with their time
 * spans, and the tool calls of the transcripts involved (a terminal run's linked transcripts, or
 * a linked transcript itself), oldest first.
 */
export function runLinksOf(db: IndexDb, ref: AgentRef): RunLinks {
  const agent = db
    .prepare('SELECT a.id FROM agents a JOIN tasks t ON t.id = a.task WHERE a.agent_id = ? AND t.task_id = ?')
    .pluck()
    .get(ref.agentId, ref.taskId) as number | undefined;
  if (agent === undefined) return { isTranscript: false, linked: [], toolCalls: [], truncated: false };
  const runs = db.prepare('SELECT first_seq AS seq, imported FROM runs WHERE agent = ? ORDER BY first_seq').all(agent) as { seq: number; imported: string | null }[];
  const isTranscript = runs.some((r) => r.imported !== null && (AGENT_TRANSCRIPT_FORMATS as readonly string[]).includes(r.imported));
  const rows = runs.flatMap((r) => linkedRuns(db, agent, r.seq));
  if (rows.length === 0) return { isTranscript, linked: [], toolCalls: [], truncated: false };
  const span = db.prepare('SELECT start_ts, end_ts FROM runs WHERE agent = ? AND first_seq = ?');
  const linked = rows.map((row) => {
    const s = span.get(row.agent, row.runSeq) as { start_ts: number | null; end_ts: number | null } | undefined;
    return { root: ref.root, ...nameLinkedRun(db, row), start: s?.start_ts ?? null, end: s?.end_ts ?? lastEntryTime(db, row.agent) };
  });
  const transcripts = isTranscript ? [{ agent, ref }] : rows.map((row, i) => ({ agent: row.agent, ref: { root: ref.root, taskId: linked[i].taskId, agentId: linked[i].agentId } }));
  const calls = db.prepare(
    `SELECT l.seq, l.ts, f.text FROM lines l JOIN lines_fts f ON f.rowid = l.id WHERE l.agent = ? AND l.type = ${CONTROL_TYPE} ORDER BY l.n LIMIT ?`,
  );
  const toolCalls: LinkedToolCall[] = [];
  for (const t of transcripts) {
    for (const c of calls.all(t.agent, MAX_LINKED_TOOL_CALLS + 1) as { seq: number; ts: number; text: string }[]) {
      toolCalls.push({ transcript: t.ref, seq: c.seq, time: c.ts, text: c.text });
    }
  }
  toolCalls.sort((a, b) => a.time - b.time);
  return { isTranscript, linked, toolCalls: toolCalls.slice(0, MAX_LINKED_TOOL_CALLS), truncated: toolCalls.length > MAX_LINKED_TOOL_CALLS };
}

/** The transcripts linked to a terminal run, or the terminal run linked to a transcript. */
export function linkedRuns(db: IndexDb, agent: number, runSeq: number): LinkedRunRow[] {
  return db
    .prepare(
      `SELECT transcript_agent AS agent, transcript_seq AS runSeq FROM run_links WHERE terminal_agent = @agent AND terminal_seq = @runSeq
       UNION ALL
       SELECT terminal_agent, terminal_seq FROM run_links WHERE transcript_agent = @agent AND transcript_seq = @runSeq
       ORDER BY 1, 2`,
    )
    .all({ agent, runSeq }) as LinkedRunRow[];
}
