/**
 * Agent output is untrusted (SPEC §9, RELIABILITY E3). These guards sit between the byte stream
 * and everything outside the terminal: the clipboard, the window title and link navigation.
 * Terminal queries (DA, DSR, ...) are answered by xterm through `onData`, which Loupe never wires
 * anywhere, so those answers go nowhere.
 */
import type { IDisposable, Terminal } from '@xterm/xterm';

/** OSC 52: clipboard read and write. */
const OSC_CLIPBOARD = 52;
/** OSC 0, 1 and 2 set the icon name and window title. */
const OSC_TITLES = [0, 1, 2];

/**
 * Swallows clipboard and title sequences before xterm acts on them.
 * A handler that returns true stops the sequence from reaching xterm's own handlers.
 */
export function blockHostileSequences(terminal: Terminal): IDisposable[] {
  const swallow = () => true;
  return [OSC_CLIPBOARD, ...OSC_TITLES].map((ident) => terminal.parser.registerOscHandler(ident, swallow));
}

/** What Loupe does with a link an agent printed (OSC 8). */
export type LinkVerdict = { allowed: true; url: string } | { allowed: false; reason: string };

/** Longest link we show in a confirm dialog; longer ones are refused rather than truncated. */
const MAX_LINK_LENGTH = 2048;

/**
 * Only https links may be opened, and only after the user confirms. Anything else
 * (javascript:, file:, data:, custom schemes, credentials in the URL) is refused.
 */
export function judgeLink(uri: string): LinkVerdict {
  if (uri.length > MAX_LINK_LENGTH) return { allowed: false, reason: 'the link is too long to show safely' };
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { allowed: false, reason: 'the link is not a valid URL' };
  }
  if (url.protocol !== 'https:') {
    return { allowed: false, reason: `only https links can be opened; this one uses ${url.protocol}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { allowed: false, reason: 'links with a user name or password in them are not opened' };
  }
  return { allowed: true, url: url.href };
}
