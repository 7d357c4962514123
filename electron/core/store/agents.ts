/**
 * What a PostgreSQL store holds, as `loupe ls --store` lists it: machines → roots → tasks →
 * agents, read from `loupe_agents` alone (how far each was shipped and its last run event).
 */
import type pg from 'pg';
import { formatTimestamp } from '../../../shared/entry.js';
import type { AgentState } from '../../../shared/ipc.js';

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
}

export async function listStore(client: pg.Client, options: { machine?: string } = {}): Promise<StoreListing> {
  const { rows } = await client.query<AgentRow>(
    `SELECT machine, root, task_id, agent_id, shipped_seq, last_event, exit_status,
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
    });
  }
  return listing;
}
