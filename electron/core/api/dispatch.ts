/**
 * One invoke, from untrusted input to a reply: the channel must be in the contract, the client
 * must be allowed to call it, and the arguments must match its schema, in that order, before
 * any handler runs. Both transports (Electron IPC and the WebSocket) go through here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  INVOKE_ACCESS,
  InvalidArgsError,
  isInvokeChannel,
  validateInvokeArgs,
  type ControlChannel,
  type InvokeChannel,
  type WireError,
} from '../../../shared/ipc.js';
import type { ApiClient, Handlers } from './handlers.js';

/** The channel exists but this client may not call it (read-only web view, say). */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** The channel is not in the contract. */
export class UnknownChannelError extends Error {
  override name = 'UnknownChannelError';
}

/** Whether `client` may call `channel` at all (read channels always; control channels if allowed). */
export function mayCall(client: ApiClient, channel: InvokeChannel): boolean {
  return INVOKE_ACCESS[channel] === 'read' || client.allowedControl.has(channel as ControlChannel);
}

/** Runs one invoke for `client`. Throws `UnknownChannelError`, `ForbiddenError`, `InvalidArgsError` or the handler's error. */
export async function callChannel(handlers: Handlers, client: ApiClient, channel: unknown, args: unknown): Promise<unknown> {
  if (!isInvokeChannel(channel)) {
    throw new UnknownChannelError(`unknown channel ${JSON.stringify(String(channel)).slice(0, 80)}`);
  }
  if (!mayCall(client, channel)) {
    throw new ForbiddenError(
      client.user?.role === 'viewer'
        ? `${channel} is not allowed for ${client.user.name}, a viewer; ask for an operator's token (loupe store user add NAME --role operator)`
        : client.transport === 'websocket'
          ? `${channel} is not allowed in this web view; restart \`loupe serve\` with --allow-control to allow it`
          : `${channel} is not allowed here`,
    );
  }
  const valid = validateInvokeArgs(channel, args);
  const handler = handlers[channel] as (a: unknown, c: ApiClient) => Promise<unknown>;
  return handler(valid, client);
}

/** Errors whose messages are meant for users; anything else is a bug and is reported generically. */
const USER_FACING = new Set([
  'ForbiddenError',
  'UnknownChannelError',
  'InvalidArgsError',
  'NotFoundError',
  'SubscriptionError',
  'InvalidIdError',
  'RootError',
  'TmuxError',
  'RegexError',
  'LogWriteError',
  'ConfigError',
  'UserError',
  'SearchQueryError',
  'TimeBoundError',
  'ExportError',
  'StoreReadError',
  'StoreAgentError',
  'StoreCacheError',
  'ControlError',
]);

/** Where Loupe is installed: the nearest folder above this module that holds a package.json. */
const INSTALL_DIR = installDir(path.dirname(fileURLToPath(import.meta.url)));

function installDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

/**
 * An error as it crosses to the UI: its name and message, never a stack, and never where Loupe
 * is installed (RELIABILITY W9: an internal error names the problem, e.g. a missing module,
 * as `<loupe>/…`).
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error && (USER_FACING.has(err.name) || err instanceof InvalidArgsError)) {
    return { name: err.name, message: hideInstallPath(err.message) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { name: 'InternalError', message: `internal error: ${hideInstallPath(message)}` };
}

function hideInstallPath(message: string): string {
  return message.split(INSTALL_DIR).join('<loupe>').replace(/file:\/\/<loupe>/g, '<loupe>');
}
