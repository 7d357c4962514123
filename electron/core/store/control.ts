/**
 * Control through the store (SPEC §16): an operator of `loupe serve --store` answers a waiting
 * agent, starts one or attaches a pane on a machine that ships there. The server cannot reach
 * that machine's tmux; the machine's own `loupe ship --accept-control` can, so the call goes
 * through a table both reach:
 *
 * 1. the server writes the call into `loupe_control` (who, which machine, the channel and its
 *    arguments) and NOTIFYs `loupe_control`;
 * 2. the machine's shipper, LISTENing there, takes the calls for its machine (one taker per
 *    call, `FOR UPDATE SKIP LOCKED`), runs each through the same handlers as
 *    `loupe serve --root DIR --allow-control`, and writes the answer or the error back;
 * 3. the server, polling the row, hands that answer to the caller.
 *
 * A call its machine does not take within `TAKE_WITHIN_MS` is withdrawn and never runs later: an
 * answer typed into a pane minutes after the question went away would be worse than none. The
 * rows stay a week, as a record of who did what.
 */
import type pg from 'pg';
import { validateInvokeArgs, type InvokeArgs, type InvokeResult } from '../../../shared/ipc.js';
import { createHandlers, type ApiClient } from '../api/handlers.js';
import { toWireError } from '../api/dispatch.js';
import { LiveFeed } from '../api/liveFeed.js';
import { RootIndexes } from '../api/rootIndexes.js';
import { coreServices, listWorkspace } from '../api/services.js';
import { listenStore } from './listen.js';
import { ensureStoreSchema } from './schema.js';
import type { WithStoreClient } from './storeLive.js';

/**
 * The control channels a store relays: those whose arguments name a root, and so the machine.
 * `capture:detach` names only a pane, and `export:save` writes a file on the caller's machine.
 */
export const RELAYED_CHANNELS = ['capture:attach', 'agent:run', 'agent:reply'] as const;
export type RelayedChannel = (typeof RELAYED_CHANNELS)[number];

/** A call its machine has not taken by then is withdrawn. */
export const TAKE_WITHIN_MS = 10_000;
/** A taken call not answered by then is reported as such (it may have run). */
const ANSWER_WITHIN_MS = 30_000;
/** How often the server looks at its call's row. */
const POLL_MS = 100;
/** Calls older than this are deleted when the next one is written. */
const KEEP_DAYS = 7;
/** The channel that tells shippers a call is waiting; its payload is the machine. */
export const CONTROL_NOTIFY_CHANNEL = 'loupe_control';

/** A relayed call failed: on its machine (the message is the machine's), or because no machine took it. */
export class ControlError extends Error {
  override name = 'ControlError';
}

export interface RelayedCall<C extends RelayedChannel> {
  machine: string;
  channel: C;
  /** Already validated, with the machine's own root paths (no `machine:` prefix). */
  args: InvokeArgs<C>;
  /** The operator, recorded with the call and in the agent's log. */
  user: string;
}

/** Writes a call for its machine and waits for the machine's answer (server side). */
export async function relayControl<C extends RelayedChannel>(withClient: WithStoreClient, call: RelayedCall<C>): Promise<InvokeResult<C>> {
  const id = await withClient(async (client) => {
    await client.query(`DELETE FROM loupe_control WHERE created_at < now() - interval '${KEEP_DAYS} days'`);
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO loupe_control (machine, channel, args, user_name) VALUES ($1, $2, $3, $4) RETURNING id',
      [call.machine, call.channel, JSON.stringify(call.args), call.user],
    );
    await client.query('SELECT pg_notify($1, $2)', [CONTROL_NOTIFY_CHANNEL, call.machine]);
    return rows[0]!.id;
  });
  const started = performance.now();
  let taken = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const row = await withClient(async (client) => {
      const { rows } = await client.query<{ claimed: boolean; done: boolean; result: unknown; error: { message: string } | null }>(
        'SELECT claimed_at IS NOT NULL AS claimed, done_at IS NOT NULL AS done, result, error FROM loupe_control WHERE id = $1',
        [id],
      );
      return rows[0];
    });
    if (row === undefined) throw new ControlError(`the call to ${call.machine} was deleted from the store before it was answered`);
    if (row.done) {
      if (row.error !== null) throw new ControlError(`${call.machine}: ${row.error.message}`);
      return row.result as InvokeResult<C>;
    }
    taken ||= row.claimed;
    const waited = performance.now() - started;
    if (!taken && waited >= TAKE_WITHIN_MS) {
      const withdrawn = await withClient((client) =>
        client.query(
          `UPDATE loupe_control SET done_at = now(), error = jsonb_build_object('message', 'not taken in time') WHERE id = $1 AND claimed_at IS NULL`,
          [id],
        ),
      );
      if (withdrawn.rowCount === 1) {
        throw new ControlError(
          `${call.machine} did not take the call within ${TAKE_WITHIN_MS / 1000} s, so nothing was done; is \`loupe ship --to URL --accept-control\` running there?`,
        );
      }
      taken = true; // taken just now
    }
    if (waited >= ANSWER_WITHIN_MS) {
      throw new ControlError(`${call.machine} took the call but did not answer within ${ANSWER_WITHIN_MS / 1000} s; it may have run: look at the agent's log`);
    }
  }
}

export interface ControlAcceptorOptions {
  url: string;
  machine: string;
  /** The shipped roots: the only ones a call may name. */
  roots: string[];
  /** tmux `-L` sockets a call may touch (empty: the default server only). */
  sockets: string[];
  version: string;
  log: (message: string) => void;
  signal: AbortSignal;
}

interface WaitingCall {
  id: string;
  channel: string;
  args: unknown;
  user_name: string;
}

/**
 * Takes and runs the calls written for this machine until `signal` aborts (shipper side). Each
 * call runs through the handlers of a local backend over the shipped roots and sockets, as an
 * operator named by the call; it is checked against the contract again here, as this machine
 * trusts the store's rows no more than a WebSocket's frames.
 */
export async function acceptControl(o: ControlAcceptorOptions): Promise<void> {
  const indexes = new RootIndexes(o.roots);
  // Control calls list the workspace without the index (the shipper's follower owns it).
  const services = { ...coreServices(indexes), listWorkspace: (roots: string[], sockets: string[]) => listWorkspace(roots, sockets) };
  const handlers = createHandlers({ version: o.version, roots: o.roots, sockets: o.sockets, services });
  const feed = new LiveFeed({ push: () => {} });
  let schemaChecked = false;

  async function run(call: WaitingCall): Promise<{ result: unknown } | { error: { name: string; message: string } }> {
    try {
      if (!(RELAYED_CHANNELS as readonly string[]).includes(call.channel)) throw new ControlError(`${call.channel} is not a call a machine takes from the store`);
      const channel = call.channel as RelayedChannel;
      const args = validateInvokeArgs(channel, call.args);
      const client: ApiClient = { transport: 'websocket', allowedControl: new Set(RELAYED_CHANNELS), user: { name: call.user_name, role: 'operator' }, feed };
      const handler = handlers[channel] as (a: unknown, c: ApiClient) => Promise<unknown>;
      return { result: await handler(args, client) };
    } catch (err) {
      return { error: toWireError(err) };
    }
  }

  try {
    await listenStore({
      url: o.url,
      channel: CONTROL_NOTIFY_CHANNEL,
      signal: o.signal,
      onReconnect: (message, delayMs) => o.log(`lost the store's control calls (${message}); listening again in ${delayMs} ms`),
      onWake: async (client: pg.Client) => {
        if (!schemaChecked) {
          await ensureStoreSchema(client);
          schemaChecked = true;
        }
        for (;;) {
          const { rows } = await client.query<WaitingCall>(
            `UPDATE loupe_control SET claimed_at = now() WHERE id = (
               SELECT id FROM loupe_control
               WHERE machine = $1 AND claimed_at IS NULL AND done_at IS NULL AND created_at > now() - $2 * interval '1 millisecond'
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, channel, args, user_name`,
            [o.machine, TAKE_WITHIN_MS],
          );
          const call = rows[0];
          if (call === undefined) return;
          const answer = await run(call);
          o.log(`${call.user_name} called ${call.channel}: ${'error' in answer ? answer.error.message : 'done'}`);
          await client.query('UPDATE loupe_control SET done_at = now(), result = $2, error = $3 WHERE id = $1', [
            call.id,
            'result' in answer ? JSON.stringify(answer.result ?? null) : null,
            'error' in answer ? JSON.stringify(answer.error) : null,
          ]);
        }
      },
    });
  } finally {
    feed.dispose();
    await indexes.dispose();
  }
}
