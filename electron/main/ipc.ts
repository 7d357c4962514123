/**
 * Registers every invoke channel of the contract on ipcMain. Each call is checked: the sender
 * must be a main frame showing our app (`app://loupe`), and dispatch then checks the channel,
 * the permission and the arguments before the handler runs (SPEC §9, RELIABILITY E2).
 * Replies are envelopes so the error's name survives the trip; the preload unwraps them.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { INVOKE_CHANNELS, type WireError } from '../../shared/ipc.js';
import type { BackendClient } from '../core/api/backend.js';
import { toWireError } from '../core/api/dispatch.js';
import { APP_ORIGIN } from './appProtocol.js';

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: WireError };

/** True when the event comes from the top frame of a window showing the app itself. */
export function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (frame === null || frame.parent !== null) return false;
  try {
    return new URL(frame.url).origin === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** Registers the contract; `clientOf` finds the backend client of a window's webContents. */
export function registerIpc(clientOf: (sender: WebContents) => BackendClient | undefined): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, async (event, args: unknown): Promise<IpcReply> => {
      const client = isTrustedSender(event) ? clientOf(event.sender) : undefined;
      if (client === undefined) return { ok: false, error: { name: 'ForbiddenError', message: `${channel}: unknown sender` } };
      try {
        return { ok: true, result: (await client.call(channel, args)) ?? null };
      } catch (err) {
        return { ok: false, error: toWireError(err) };
      }
    });
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}
