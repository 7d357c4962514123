/**
 * Run summaries from the PostgreSQL store (`loupe stats --store`): the ones each shipper's local
 * index computed (electron/core/index/runs.ts), stored with its latest batch, so the store's
 * numbers are the local ones.
 */
import type pg from 'pg';
import type { RunSummary, StatsQuery } from '../index/runs.js';

export type StoreRunSummary = RunSummary & { machine: string };

/** Summaries matching the query, by task, agent and machine, then run. */
export async function storeRunSummaries(client: pg.Client, query: StatsQuery & { machine?: string } = {}): Promise<StoreRunSummary[]> {
  const { rows } = await client.query<{ machine: string; summary: string }>(
    `SELECT a.machine, r.summary FROM loupe_runs r JOIN loupe_agents a ON a.id = r.agent
     WHERE ($1::text IS NULL OR a.agent_id = $1) AND ($2::text IS NULL OR a.task_id = $2) AND ($3::text IS NULL OR a.machine = $3)
     ORDER BY a.task_id, a.agent_id, a.machine, a.root, r.run`,
    [query.agentId ?? null, query.taskId ?? null, query.machine ?? null],
  );
  return rows.map((r) => ({ ...(JSON.parse(r.summary) as RunSummary), machine: r.machine }));
}
