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
 * - An imported transcript has one: its started entry (`imported`, `cwd`, start time).
 *
 * Each transcript links to at most one terminal run (`run_links`): among the terminal sightings
 * of its kind and folder whose run overlaps it, the one whose agent appeared last before the
 * transcript began (two panes running `claude` in one folder each get their own session).
 * Everything here is derived from indexed entries, so `loupe reindex` rebuilds it.
 */
import { MAX_LINKED_TOOL_CALLS, type AgentRef, type LinkedRun, type LinkedToolCall, type RunLinks } from '../../../shared/ipc.js';
import { agentOfCommand, type AgentKind } from '../capture/agentProcess.js';
import { AGENT_TRANSCRIPT_FORMATS } from '../transcripts/session.js';
import { TYPE_CODES, type IndexDb } from './schema.js';

/** Clock slack between a pane's capture and the agent's own timestamps (same machine, coarse detection). */
const SLACK_MICROS = 5_000_000;

interface Sighting {
  agent: number;
  run_seq: number;
  transcript: number;
  kind: AgentKind;
  cwd: string;
  ts: number;
}

interface RunSpan {
  first_seq: number;
  start_ts: number | null;
  end_ts: number | null;
  terminated: number;
}

/**
 * Rebuilds an agent's sightings from its events and runs, then the links of every transcript in
 * the folders they name (before and after). Call inside the transaction that refreshed its runs.
 */
export function refreshLinks(db: IndexDb, agent: number): void {
  const places = new Map<string, { kind: AgentKind; cwd: string }>();
  const remember = (kind: AgentKind, cwd: string) => places.set(`${kind}\0${cwd}`, { kind, cwd });
  for (const old of db.prepare('SELECT DISTINCT kind, cwd FROM agent_sightings WHERE agent = ?').all(agent) as Sighting[]) remember(old.kind, old.cwd);
  db.prepare('DELETE FROM agent_sightings WHERE agent = ?').run(agent);
  const insert = db.prepare('INSERT INTO agent_sightings (agent, run_seq, transcript, kind, cwd, ts) VALUES (?, ?, ?, ?, ?, ?)');
  for (const s of sightingsOf(db, agent)) {
    insert.run(s.agent, s.run_seq, s.transcript, s.kind, s.cwd, s.ts);
    remember(s.kind, s.cwd);
  }
  // The agent's own links go first: a transcript whose folder changed must not keep its old link.
  db.prepare('DELETE FROM run_links WHERE transcript_agent = ? OR terminal_agent = ?').run(agent, agent);
  for (const { kind, cwd } of places.values()) relinkPlace(db, kind, cwd);
}

/** An agent's sightings, read from its system events (started, agent_process). */
function sightingsOf(db: IndexDb, agent: number): Sighting[] {
  const runs = db.prepare('SELECT first_seq FROM runs WHERE agent = ? ORDER BY first_seq').pluck().all(agent) as number[];
  const runOf = (seq: number) => runs.filter((first) => first <= seq).pop() ?? runs[0] ?? 1;
  const events = db
    .prepare(`SELECT seq, ts, event, metadata FROM events WHERE agent = ? AND event IN ('started', 'agent_process') ORDER BY seq`)
    .all(agent) as { seq: number; ts: number; event: string; metadata: string }[];
  const out: Sighting[] = [];
  const startedCwd = new Map<number, string>();
  for (const ev of events) {
    const meta = JSON.parse(ev.metadata) as Record<string, unknown>;
    const run = runOf(ev.seq);
    const cwd = typeof meta.cwd === 'string' && meta.cwd !== '' ? meta.cwd : null;
    if (ev.event === 'started') {
      if (cwd !== null) startedCwd.set(run, cwd);
      if (cwd === null) continue;
      if (meta.imported === 'claude' || meta.imported === 'codex') {
        out.push({ agent, run_seq: run, transcript: 1, kind: meta.imported, cwd, ts: ev.ts });
      } else if (meta.imported === undefined && typeof meta.command === 'string') {
        const kind = agentOfCommand(meta.command.split(' '));
        if (kind !== null) out.push({ agent, run_seq: run, transcript: 0, kind, cwd, ts: ev.ts });
      }
    } else if (meta.agent === 'claude' || meta.agent === 'codex') {
      const where = cwd ?? startedCwd.get(run);
      if (where !== undefined) out.push({ agent, run_seq: run, transcript: 0, kind: meta.agent, cwd: where, ts: ev.ts });
    }
  }
  return out;
}

/** Recomputes the link of every transcript of `kind` in `cwd`. */
function relinkPlace(db: IndexDb, kind: AgentKind, cwd: string): void {
  const sightings = db.prepare('SELECT * FROM agent_sightings WHERE kind = ? AND cwd = ?').all(kind, cwd) as Sighting[];
  const terminals = sightings.filter((s) => s.transcript === 0);
  const transcripts = sightings.filter((s) => s.transcript === 1);
  const deleteLink = db.prepare('DELETE FROM run_links WHERE transcript_agent = ? AND transcript_seq = ?');
  const insertLink = db.prepare('INSERT INTO run_links (terminal_agent, terminal_seq, transcript_agent, transcript_seq) VALUES (?, ?, ?, ?)');
  const spans = new Map<number, RunSpan[]>();
  const spanOf = (agent: number, first: number): [number, number] | null => {
    let runs = spans.get(agent);
    if (runs === undefined) {
      runs = db.prepare('SELECT first_seq, start_ts, end_ts, terminated FROM runs WHERE agent = ? ORDER BY first_seq').all(agent) as RunSpan[];
      spans.set(agent, runs);
    }
    const i = runs.findIndex((r) => r.first_seq === first);
    const run = runs[i];
    if (run === undefined || run.start_ts === null) return null;
    const next = runs[i + 1]?.start_ts ?? null;
    const end = run.terminated === 1 && run.end_ts !== null ? run.end_ts : (next ?? Number.MAX_SAFE_INTEGER);
    return [run.start_ts, end];
  };
  for (const t of transcripts) {
    deleteLink.run(t.agent, t.run_seq);
    const t0 = t.ts;
    const t1 = Math.max(t0, lastEntryTime(db, t.agent) ?? t0);
    let best: { s: Sighting; score: number } | null = null;
    for (const s of terminals) {
      const span = spanOf(s.agent, s.run_seq);
      if (span === null) continue;
      // The run and the transcript overlap, and the agent process was there before the transcript ended.
      if (t0 > span[1] + SLACK_MICROS || t1 < span[0] - SLACK_MICROS || t1 < s.ts - SLACK_MICROS) continue;
      // Prefer the agent that appeared last before the transcript began, then the first after it.
      const score = s.ts <= t0 + SLACK_MICROS ? t0 - s.ts : Number.MAX_SAFE_INTEGER / 2 + (s.ts - t0);
      if (best === null || score < best.score) best = { s, score };
    }
    if (best !== null) insertLink.run(best.s.agent, best.s.run_seq, t.agent, t.run_seq);
  }
}

/** The time of an agent's last indexed entry (µs), null for none. */
function lastEntryTime(db: IndexDb, agent: number): number | null {
  return (db.prepare('SELECT ts FROM entries WHERE agent = ? ORDER BY seq DESC LIMIT 1').pluck().get(agent) as number | undefined) ?? null;
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
