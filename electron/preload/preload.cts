/**
 * The preload: exposes `window.loupe` (the contract's `LoupeBridge`) and nothing else. No raw
 * ipcRenderer: `invoke` and `on` accept only the contract's channels.
 *
 * Sandboxed preloads cannot load our other files, so the channel lists are written out here;
 * the type checks below fail to compile when they drift from shared/ipc.ts.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { InvokeChannel, PushChannel, WireError } from '../../shared/ipc.js' with { 'resolution-mode': 'import' };

const INVOKE = [
  'app:info',
  'workspace:list',
  'agent:tail',
  'agent:entries',
  'live:subscribe',
  'live:unsubscribe',
  'live:ack',
  'index:search',
  'index:stats',
  'index:links',
  'capture:attach',
  'capture:detach',
  'agent:run',
  'agent:reply',
  'replay:timeline',
  'replay:seek',
  'replay:frames',
  'export:preview',
  'export:save',
] as const satisfies readonly InvokeChannel[];
const PUSH = ['live:entries', 'agent:notice', 'workspace:changed', 'app:open-link', 'export:progress'] as const satisfies readonly PushChannel[];

// Every contract channel must be listed: `true` only type-checks when none is missing.
const invokeComplete: Exclude<InvokeChannel, (typeof INVOKE)[number]> extends never ? true : never = true;
const pushComplete: Exclude<PushChannel, (typeof PUSH)[number]> extends never ? true : never = true;
void invokeComplete;
void pushComplete;

const invokeAllowed = new Set<string>(INVOKE);
const pushAllowed = new Set<string>(PUSH);

type IpcReply = { ok: true; result: unknown } | { ok: false; error: WireError };

contextBridge.exposeInMainWorld('loupe', {
  /** Calls a contract channel. Rejects with `{ name, message }` (the error crosses the bridge as a plain object). */
  async invoke(channel: unknown, args: unknown): Promise<unknown> {
    if (typeof channel !== 'string' || !invokeAllowed.has(channel)) {
      throw { name: 'UnknownChannelError', message: `unknown channel ${String(channel)}` };
    }
    const reply = (await ipcRenderer.invoke(channel, args)) as IpcReply;
    if (reply.ok) return reply.result;
    throw { name: reply.error.name, message: reply.error.message };
  },
  /** Listens to a push channel; returns the function that stops listening. */
  on(channel: unknown, listener: unknown): () => void {
    if (typeof channel !== 'string' || !pushAllowed.has(channel) || typeof listener !== 'function') {
      throw new Error(`cannot listen to ${String(channel)}: not a push channel of the contract`);
    }
    const forward = (_event: IpcRendererEvent, payload: unknown) => (listener as (p: unknown) => void)(payload);
    ipcRenderer.on(channel, forward);
    return () => void ipcRenderer.removeListener(channel, forward);
  },
});
