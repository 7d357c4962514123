/**
 * The desktop app's half of `export:save`: the native save-file dialog, parented to the window
 * that asked. Core does the export (electron/core/api/handlers.ts); this only chooses the file.
 */
import path from 'node:path';
import { app, BrowserWindow, dialog, webContents } from 'electron';
import type { BackendClient } from '../core/api/backend.js';
import type { ApiClient } from '../core/api/handlers.js';

/**
 * The backend's `chooseExportFile` for the windows in `clients` (webContents id → client): a save
 * dialog that starts in Downloads with the suggested name; null when the user cancels.
 */
export function exportFileChooser(clients: ReadonlyMap<number, BackendClient>) {
  return async (client: ApiClient, suggestedName: string): Promise<string | null> => {
    const id = [...clients].find(([, c]) => c.client === client)?.[0];
    const contents = id === undefined ? undefined : webContents.fromId(id);
    const win = contents ? BrowserWindow.fromWebContents(contents) : null;
    const options: Electron.SaveDialogOptions = {
      title: 'Export run',
      buttonLabel: 'Export',
      defaultPath: path.join(app.getPath('downloads'), suggestedName),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? null : result.filePath;
  };
}
