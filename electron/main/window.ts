/**
 * The app window, locked down (SPEC §9): context isolation, sandbox, no Node in the page,
 * no navigation away from the app, no new windows, no permissions. Links the page asks to open
 * go to the system browser, https only, after the user confirms.
 */
import path from 'node:path';
import { BrowserWindow, dialog, shell, type WebContents } from 'electron';
import { APP_ORIGIN, APP_URL } from './appProtocol.js';

/** Opens `url` in the system browser if it is https and the user agrees. */
export async function openExternalAfterConfirm(parent: BrowserWindow | null, url: string): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (parsed.protocol !== 'https:') return;
  const options = {
    type: 'question' as const,
    buttons: ['Cancel', 'Open in browser'],
    defaultId: 0,
    cancelId: 0,
    message: 'Open this link in your browser?',
    detail: parsed.href,
  };
  const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
  if (response === 1) await shell.openExternal(parsed.href);
}

/** Applies the navigation rules to any web contents the app creates. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalAfterConfirm(BrowserWindow.fromWebContents(contents), url);
    return { action: 'deny' };
  });
}

export function createMainWindow(preloadFile: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 640,
    minHeight: 400,
    title: 'Loupe',
    backgroundColor: '#1e1e1e',
    show: false,
    webPreferences: {
      preload: path.resolve(preloadFile),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}
