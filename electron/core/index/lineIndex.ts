/**
 * Writes an agent's screen lines (electron/core/screen) into the index as its entries are
 * indexed, and keeps the screen-line maker's state in the same transaction, so any process can
 * continue where the last pass stopped and a rebuild gives the same lines as live indexing.
 */
import { ENTRY_TYPES, LEVELS, type EntryType, type Level, type LogEntry } from '../../../shared/entry.js';
import type { Classifier } from '../capture/classify.js';
import { classifyScreenLine, systemLine } from '../screen/lineRecord.js';
import { NO_FACTS, type AttentionFacts, type CompiledPromptRule } from '../attention/attention.js';
import { AttentionTracker } from '../attention/tracker.js';
import { ScreenLineMaker, type ScreenLine, type ScreenState } from '../screen/screenLines.js';
import type { Statement } from 'better-sqlite3';
import type { IndexDb } from './schema.js';

/** An indexed entry as the line index sees it: where it is in the file, and its time. */
export interface IndexedEntry {
  entry: LogEntry;
  ts: number;
  file: number;
  offset: number;
  length: number;
}

/** Line ids are timestamps like entry ids; a line this far behind the previous one keeps its own time. */
const NUDGE_WINDOW_US = 1_000_000;

const TYPE_CODE = Object.fromEntries(ENTRY_TYPES.map((t, i) => [t, i])) as Record<EntryType, number>;
const LEVEL_CODE = Object.fromEntries(LEVELS.map((l, i) => [l, i])) as Record<Level, number>;

type LineStatementName =
  | 'insertLine'
  | 'lastN'
  | 'insertLineText'
  | 'entryAt'
  | 'stateOf'
  | 'saveState'
  | 'stateVersion'
  | 'dropState'
  | 'settling'
  | 'deleteLineTexts'
  | 'deleteLines';

export type LineStatements = Record<LineStatementName, Statement>;

export function prepareLineStatements(db: IndexDb): Record<LineStatementName, Statement> {
  return {
    insertLine: db.prepare(
      'INSERT INTO lines (id, agent, n, seq, first_seq, ts, type, level, file, offset, length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    lastN: db.prepare('SELECT coalesce(max(n), 0) AS n FROM lines WHERE agent = ?'),
    insertLineText: db.prepare('INSERT INTO lines_fts (rowid, text) VALUES (?, ?)'),
    entryAt: db.prepare('SELECT file, offset, length FROM entries WHERE agent = ? AND seq = ?'),
    stateOf: db.prepare('SELECT seq, state, attention FROM screen_states WHERE agent = ?'),
    saveState: db.prepare(
      `INSERT INTO screen_states (agent, seq, version, state, settle_at, attention) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent) DO UPDATE SET seq = excluded.seq, version = excluded.version, state = excluded.state,
         settle_at = excluded.settle_at, attention = excluded.attention`,
    ),
    stateVersion: db.prepare('SELECT version FROM screen_states WHERE agent = ?'),
    dropState: db.prepare('DELETE FROM screen_states WHERE agent = ?'),
    settling: db.prepare('SELECT agent FROM screen_states WHERE settle_at IS NOT NULL AND settle_at <= ?'),
    deleteLineTexts: db.prepare('DELETE FROM lines_fts WHERE rowid IN (SELECT id FROM lines WHERE agent = ? AND seq BETWEEN ? AND ?)'),
    deleteLines: db.prepare('DELETE FROM lines WHERE agent = ? AND seq BETWEEN ? AND ?'),
  };
}



/** An error line that became final in this pass: what a live error notice says. */
export interface NewErrorLine {
  /** The entry after which the line showed. */
  sequence: number;
  /** When it showed (µs since the epoch). */
  time: number;
  text: string;
}

/** Error lines kept per agent between two takes: a notice needs only the first few. */
const MAX_ERROR_LINES_HELD = 20;

/** One agent's screen lines being indexed. Use inside the transaction that inserts its entries. */
export class AgentLines {
  readonly agent: number;
  private readonly s: LineStatements;
  private readonly classify: Classifier;
  private maker: ScreenLineMaker;
  /** Entries of the current batch by sequence, to place lines without a lookup. */
  private batch = new Map<number, IndexedEntry>();
  private lastId = 0;
  /** false: each entry is its own line (the index bench's baseline), no terminal is played. */
  private screen = true;
  /** The number of the agent's last line. */
  private n: number;
  /** The version of the saved state this maker is at (0: none saved yet). */
  private version = 0;
  private changed = false;
  /** The agent's attention facts (SPEC §13), kept as its entries are played. */
  private readonly attention: AttentionTracker;
  private readonly prompts: CompiledPromptRule[];
  /** Error and fatal lines written since the owner last took them (for live error notices). */
  private errors: NewErrorLine[] = [];

  private constructor(s: LineStatements, agent: number, classify: Classifier, maker: ScreenLineMaker, attention: AttentionTracker, prompts: CompiledPromptRule[]) {
    this.s = s;
    this.agent = agent;
    this.classify = classify;
    this.maker = maker;
    this.attention = attention;
    this.prompts = prompts;
    this.n = (s.lastN.get(agent) as { n: number }).n;
  }

  /**
   * The agent's line index, continuing from `cached` when it is where the index says this agent
   * is, else from the state the last pass saved (possibly another process's), else from scratch.
   */
  static open(
    s: LineStatements,
    agent: number,
    classify: () => Classifier,
    prompts: () => CompiledPromptRule[],
    cached: AgentLines | undefined,
    screen = true,
  ): AgentLines {
    // Another process may have saved since (more entries, or lines settled): then reload.
    const savedVersion = (s.stateVersion.get(agent) as { version: number } | undefined)?.version ?? 0;
    if (cached !== undefined && cached.version === savedVersion) return cached;
    cached?.dispose();
    const saved = s.stateOf.get(agent) as { seq: number; state: string; attention: string | null } | undefined;
    const maker = saved === undefined ? new ScreenLineMaker() : ScreenLineMaker.restore(JSON.parse(saved.state) as ScreenState);
    const facts = saved?.attention ? (JSON.parse(saved.attention) as AttentionFacts) : NO_FACTS;
    const lines = new AgentLines(s, agent, classify(), maker, new AttentionTracker(facts), prompts());
    lines.screen = screen;
    lines.version = savedVersion;
    return lines;
  }

  /** Where the maker is: the last entry it has seen. */
  get seq(): number {
    return this.maker.seq;
  }

  /** Plays one newly indexed entry and writes the lines it made final (and a system entry's own line). */
  add(e: IndexedEntry): void {
    this.changed = true;
    if (!this.screen) {
      const line = e.entry.type === 'system' ? systemLine(e.entry, e.ts) : { ...systemLine(e.entry, e.ts), type: e.entry.type };
      this.insert(line.time, line.firstSequence, line.sequence, line.type, line.level, line.text, e);
      return;
    }
    this.batch.set(e.entry.sequence, e);
    this.maker.apply(e.entry, e.ts);
    this.attention.entry(e.entry, e.ts);
    this.writeLines(this.maker.take());
    if (e.entry.type === 'system') {
      const line = systemLine(e.entry, e.ts);
      this.insert(line.time, line.firstSequence, line.sequence, line.type, line.level, line.text, e);
    }
  }

  /** Output has been quiet until `now`: lines that stood long enough by then become lines. */
  settle(now: number): void {
    this.changed = true;
    this.maker.settle(now);
    this.writeLines(this.maker.take());
  }

  /** Saves the maker's state with the batch (when it changed). */
  save(): void {
    if (!this.changed) return;
    this.changed = false;
    if (this.screen) this.attention.look(this.maker.snapshot(), this.prompts);
    const state = this.maker.save();
    this.version++;
    this.s.saveState.run(this.agent, this.maker.seq, this.version, JSON.stringify(state), this.maker.nextSettle(), JSON.stringify(this.attention.facts));
    this.batch.clear();
  }

  /** The error and fatal lines (not system ones) written since the last call. */
  takeErrorLines(): NewErrorLine[] {
    const taken = this.errors;
    this.errors = [];
    return taken;
  }

  dispose(): void {
    this.maker.dispose();
  }

  private writeLines(lines: ScreenLine[]): void {
    for (const line of lines) {
      const at = this.batch.get(line.lastSeq) ?? this.lookup(line.lastSeq);
      if (at === null) continue; // its entry was removed with its file
      const { type, level } = classifyScreenLine(line, this.classify);
      this.insert(line.time, line.firstSeq, line.lastSeq, type, level, line.text, at);
    }
  }

  private lookup(seq: number): { file: number; offset: number; length: number } | null {
    return (this.s.entryAt.get(this.agent, seq) as { file: number; offset: number; length: number } | undefined) ?? null;
  }

  private insert(
    ts: number,
    firstSeq: number,
    seq: number,
    type: EntryType,
    level: Level,
    text: string,
    at: { file: number; offset: number; length: number },
  ): void {
    let id = Math.max(1, ts);
    if (id <= this.lastId && this.lastId - id < NUDGE_WINDOW_US) id = this.lastId + 1;
    // Another line may hold this microsecond: the insert is ignored, and the next id is tried.
    const n = this.n + 1;
    while (this.s.insertLine.run(id, this.agent, n, seq, firstSeq, ts, TYPE_CODE[type], LEVEL_CODE[level], at.file, at.offset, at.length).changes === 0) id++;
    this.n = n;
    this.s.insertLineText.run(id, text);
    this.lastId = id;
    if ((level === 'error' || level === 'fatal') && type !== 'system' && this.errors.length < MAX_ERROR_LINES_HELD) {
      this.errors.push({ sequence: seq, time: ts, text });
    }
  }
}
