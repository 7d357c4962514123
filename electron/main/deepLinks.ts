/**
 * `loupe://agent/<id>?seq=N` links (shared/deeplink.ts): Loupe registers itself as the handler of
 * the scheme, and hands every link it receives (the command line of a first or second instance,
 * macOS `open-url`) to the window as an `app:open-link` push, where the renderer opens that moment.
 * Links are parsed, never trusted: anything that is not a valid agent link is dropped here.
 */
import { app, BrowserWindow } from 'electron';
import { parseAgentLink } from '../../shared/deeplink.js';
import type { Push } from '../../shared/ipc.js';

export const LINK_SCHEME = 'loupe';
/** How often, and how many times, to look again for the window when a link arrives during startup. */
const WINDOW_WAIT_MS = 100;
const WINDOW_WAIT_TRIES = 100;

/** The first valid `loupe://agent/…` link among command-line arguments, or null. */
export function linkInArgv(argv: readonly string[]): string | null {
  return argv.find((arg) => arg.startsWith(`${LINK_SCHEME}://`) && parseAgentLink(arg) !== null) ?? null;
}

/** Registers the scheme and starts listening for links; must run before the app is ready. */
export function handleDeepLinks(): void {
  // Run from a checkout (`electron .`), the OS must be told how to start this app with the link.
  if (process.defaultApp && process.argv[1] !== undefined) app.setAsDefaultProtocolClient(LINK_SCHEME, process.execPath, [process.argv[1]]);
  else app.setAsDefaultProtocolClient(LINK_SCHEME);
  app.on('open-url', (event, url) => {
    event.preventDefault();
    openLink(url);
  });
  app.on('second-instance', (_event, argv) => {
    const link = linkInArgv(argv);
    if (link !== null) openLink(link);
  });
  const first = linkInArgv(process.argv);
  if (first !== null) void app.whenReady().then(() => openLink(first));
}

/** Sends a link to the window once its page has loaded (a link can arrive before the window). */
function openLink(link: string): void {
  if (parseAgentLink(link) === null) return;
  const payload: Push['app:open-link'] = { link };
  let tries = 0;
  const deliver = () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win === undefined) {
      if (++tries < WINDOW_WAIT_TRIES) setTimeout(deliver, WINDOW_WAIT_MS);
      return;
    }
    const contents = win.webContents;
    if (contents.isLoading()) contents.once('did-finish-load', () => contents.send('app:open-link', payload));
    else contents.send('app:open-link', payload);
  };
  deliver();
}
