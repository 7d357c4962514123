/** Electron main process: window and lifecycle. The app itself comes with issue 4. */
import { app, BrowserWindow } from 'electron';

app.whenReady().then(() => {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  void win.loadURL('about:blank');
});

app.on('window-all-closed', () => app.quit());
