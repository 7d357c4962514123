/**
 * What a PostgreSQL store holds, as `loupe ls --store` lists it: machines → roots → tasks →
 * agents, read from `loupe_agents` alone (how far each was shipped and its last run event).
 */
import type pg from 'pg';
import { formatTimestamp } from '../../../shared/entry.js';
import type { AgentState } from '../../../shared/ipc.js';
import type { AttentionFacts } from '../attention/attention.js';
import { NOTIFICATION_KINDS } from '../attention/notifications.js';

export interface StoreAgent {
  agentId: string;
  /** `live` until a `terminated` entry was shipped; `error` for a non-zero exit status. */
  state: AgentState;
  exitStatus: number | null;
  /** The last sequence shipped. */
  entries: number;
  /** ISO 8601 time of the last entry shipped, null for none. */
  lastActivity: string | null;
  /** ISO 8601 time of the last batch shipped. */
  shippedAt: string | null;
  /** Its attention facts from the shipping machine's index, null when it sent none (or none that make sense). */
  attention: AttentionFacts | null;
}

export interface StoreListing {
  machines: { machine: string; roots: { root: string; tasks: { taskId: string; agents: StoreAgent[] }[] }[] }[];
}

interface AgentRow {
  machine: string;
  root: string;
  task_id: string;
  agent_id: string;
  shipped_seq: string;
  last_us: string | null;
  shipped_us: string | null;
  last_event: string | null;
  exit_status: number | null;
  attention: unknown;
}

export async function listStore(client: pg.Client, options: { machine?: string } = {}): Promise<StoreListing> {
  const { rows } = await client.query<AgentRow>(
    // The attention column is read through the row's JSON: a store still at schema 2 (no machine
    // with this Loupe has shipped into it yet) has none, and is listed without it.
    `SELECT machine, root, task_id, agent_id, shipped_seq, last_event, exit_status, to_jsonb(loupe_agents) -> 'attention' AS attention,
       (extract(epoch from last_ts) * 1000000)::bigint AS last_us, (extract(epoch from shipped_at) * 1000000)::bigint AS shipped_us
     FROM loupe_agents WHERE shipped_seq > 0 AND ($1::text IS NULL OR machine = $1) ORDER BY machine, root, task_id, agent_id`,
    [options.machine ?? null],
  );
  const listing: StoreListing = { machines: [] };
  for (const r of rows) {
    let machine = listing.machines[listing.machines.length - 1];
    if (machine?.machine !== r.machine) listing.machines.push((machine = { machine: r.machine, roots: [] }));
    let root = machine.roots[machine.roots.length - 1];
    if (root?.root !== r.root) machine.roots.push((root = { root: r.root, tasks: [] }));
    let task = root.tasks[root.tasks.length - 1];
    if (task?.taskId !== r.task_id) root.tasks.push((task = { taskId: r.task_id, agents: [] }));
    const ended = r.last_event === 'terminated';
    task.agents.push({
      agentId: r.agent_id,
      state: !ended ? 'live' : r.exit_status !== null && r.exit_status !== 0 ? 'error' : 'ended',
      exitStatus: ended ? r.exit_status : null,
      entries: Number(r.shipped_seq),
      lastActivity: r.last_us === null ? null : formatTimestamp(Number(r.last_us)),
      shippedAt: r.shipped_us === null ? null : formatTimestamp(Number(r.shipped_us)),
      attention: attentionFacts(r.attention),
    });
  }
  return listing;
}

/**
 * Attention facts read from the store, checked field by field: any machine that ships may have
 * written them, and a malformed value must not break the listing for everyone.
 */
export function attentionFacts(value: unknown): AttentionFacts | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const time = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  const timeOrNull = (x: unknown) => x === null || time(x);
  const prompt = v.prompt as Record<string, unknown> | null;
  const notification = v.notification as Record<string, unknown> | null;
  const ok =
    timeOrNull(v.lastOutput) &&
    timeOrNull(v.activeSince) &&
    timeOrNull(v.ended) &&
    (v.cursorText === undefined || v.cursorText === null || typeof v.cursorText === 'string') &&
    (prompt === null || (typeof prompt === 'object' && typeof prompt.rule === 'string' && typeof prompt.text === 'string' && time(prompt.since))) &&
    (notification === null ||
      (typeof notification === 'object' && (NOTIFICATION_KINDS as readonly unknown[]).includes(notification.kind) && typeof notification.text === 'string' && time(notification.at)));
  return ok ? (value as AttentionFacts) : null;
}
