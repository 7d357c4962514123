/**
 * The Electron main process: lifecycle, window, menu, and the backend it embeds (capture
 * supervision and the contract's handlers). Everything a Node test can reach lives in core;
 * this file only wires it to Electron.
 *
 * Roots: `--root DIR` arguments (repeatable, e.g. `npm start -- --root ~/project`), else
 * `LOUPE_ROOTS` (separated by the platform's path delimiter), else the current folder.
 * tmux sockets: `--socket NAME` arguments, else the default server.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, Notification, session, shell, type WebContents } from 'electron';
import { CONTROL_CHANNELS, type Push, type PushChannel } from '../../shared/ipc.js';
import { startBackend, type Backend, type BackendClient } from '../core/api/backend.js';
import { registerAppScheme, serveRenderer } from './appProtocol.js';
import { exportFileChooser } from './exportDialog.js';
import { handleDeepLinks } from './deepLinks.js';
import { registerIpc } from './ipc.js';
import { installMenu } from './menu.js';
import { createMainWindow, lockDown } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = path.resolve(here, '../../renderer');
const PRELOAD_FILE = path.resolve(here, '../preload/preload.cjs');
const DOCS_URL = 'https://github.com/loupe-dev/loupe#readme';

/** Values of a repeatable `--name VALUE` / `--name=VALUE` command-line option. */
function optionValues(argv: string[], name: string): string[] {
  const values: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === name && argv[i + 1] !== undefined) values.push(argv[i + 1]);
    else if (arg.startsWith(name + '=')) values.push(arg.slice(name.length + 1));
  });
  return values;
}

function chooseRoots(argv: string[]): string[] {
  const fromArgs = optionValues(argv, '--root');
  if (fromArgs.length > 0) return fromArgs;
  const fromEnv = process.env.LOUPE_ROOTS?.split(path.delimiter).filter(Boolean) ?? [];
  return fromEnv.length > 0 ? fromEnv : [process.cwd()];
}

const clients = new Map<number, BackendClient>();
let backend: Backend | null = null;

function showNotice(notice: Push['agent:notice']): void {
  if (!Notification.isSupported()) return;
  const title = notice.kind === 'exited' ? 'Agent exited' : notice.kind === 'waiting' ? `${notice.agent.agentId} needs you` : 'Agent error';
  new Notification({ title, body: notice.message }).show();
}

function openWindow(): void {
  const win = createMainWindow(PRELOAD_FILE);
  const contents = win.webContents;
  const id = contents.id;
  const send = <C extends PushChannel>(channel: C, payload: Push[C]) => {
    if (contents.isDestroyed()) return;
    if (channel === 'agent:notice') showNotice(payload as Push['agent:notice']);
    contents.send(channel, payload);
  };
  clients.set(id, backend!.connect({ transport: 'ipc', allowedControl: CONTROL_CHANNELS, send }));
  // A reload drops the page's subscriptions; a new client starts clean.
  contents.on('did-start-navigation', (details) => {
    if (!details.isMainFrame || details.isSameDocument) return;
    clients.get(id)?.close();
    clients.set(id, backend!.connect({ transport: 'ipc', allowedControl: CONTROL_CHANNELS, send }));
  });
  win.on('closed', () => {
    clients.get(id)?.close();
    clients.delete(id);
  });
}

registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  handleDeepLinks();

  app.on('web-contents-created', (_event, contents: WebContents) => lockDown(contents));

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    serveRenderer(RENDERER_DIR);
    backend = startBackend({
      roots: chooseRoots(process.argv),
      sockets: optionValues(process.argv, '--socket'),
      version: app.getVersion(),
      embedded: true,
      log: (message) => console.error(`loupe: ${message}`),
      chooseExportFile: exportFileChooser(clients),
    });
    registerIpc((sender) => clients.get(sender.id));
    installMenu(() => void shell.openExternal(DOCS_URL));
    openWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Hand captures to a background daemon before exiting: closing Loupe never stops a capture.
  let quitting = false;
  app.on('will-quit', (event) => {
    if (quitting || backend === null) return;
    event.preventDefault();
    quitting = true;
    void backend.dispose().finally(() => app.quit());
  });
}
