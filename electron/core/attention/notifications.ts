/**
 * Notification escapes in a terminal stream: the ways programs ask the terminal to get the user's
 * attention. A bare BEL (`\x07`, not the terminator of an OSC string), OSC 9 (iTerm2/ConEmu/
 * Windows Terminal: `ESC ] 9 ; text BEL`), OSC 99 (kitty: `ESC ] 99 ; metadata ; text ST`) and
 * OSC 777 (urxvt/foot/Ghostty: `ESC ] 777 ; notify ; title ; body BEL`). ConEmu's OSC 9;4
 * progress reports share OSC 9's number and are not notifications. Inside tmux, agents wrap them
 * in tmux's passthrough (`ESC P tmux; … ESC \`, every ESC inside doubled): unwrapped first.
 */

export const NOTIFICATION_KINDS = ['bell', 'osc9', 'osc99', 'osc777'] as const;

export interface Notification {
  kind: (typeof NOTIFICATION_KINDS)[number];
  /** What the notification says, as plain text (empty for a bell). */
  text: string;
}

/** OSC strings end at BEL or ST (`ESC \`, or the 8-bit ST `\x9c`). */
const OSC = /(?:\x1b\]|\x9d)([^\x07\x1b\x9c]*)(?:\x07|\x1b\\|\x9c)/g;

/** tmux's passthrough: `ESC P tmux;` then the sequence with each ESC doubled, then ST. */
const TMUX_PASSTHROUGH = /\x1bPtmux;((?:[^\x1b]|\x1b\x1b)*)\x1b\\/g;

/** Where a stream is between two chunks: inside an OSC string that a later chunk ends. */
export interface EscapeState {
  inOsc: boolean;
}

/**
 * The notifications in one chunk of terminal output, in order. Pass the same `state` for every
 * chunk of a stream: an OSC string split across chunks (a 1 MB one is) ends with a BEL that is
 * its terminator, not the bell.
 */
export function notificationsIn(raw: string, state: EscapeState = { inOsc: false }): Notification[] {
  let text = raw;
  if (state.inOsc) {
    const end = text.search(/\x07|\x1b\\|\x9c/);
    if (end < 0) return []; // still inside it
    text = text.slice(end + (text[end] === '\x1b' ? 2 : 1));
    state.inOsc = false;
  }
  if (!text.includes('\x07') && !text.includes('\x1b]') && !text.includes('\x9d')) return [];
  if (text.includes('\x1bPtmux;')) text = text.replace(TMUX_PASSTHROUGH, (_m, inner: string) => inner.replace(/\x1b\x1b/g, '\x1b'));
  const found: Notification[] = [];
  let rest = '';
  let last = 0;
  for (const m of text.matchAll(OSC)) {
    rest += text.slice(last, m.index);
    last = m.index + m[0].length;
    const n = oscNotification(m[1]);
    if (n !== null) found.push(n);
  }
  rest += text.slice(last);
  // An OSC string that this chunk starts and does not end: the next chunk ends it.
  const open = Math.max(rest.lastIndexOf('\x1b]'), rest.lastIndexOf('\x9d'));
  if (open >= 0) {
    state.inOsc = true;
    rest = rest.slice(0, open);
  }
  // A BEL left outside every OSC string is the terminal bell.
  if (rest.includes('\x07')) found.push({ kind: 'bell', text: '' });
  return found;
}

function oscNotification(body: string): Notification | null {
  const semi = body.indexOf(';');
  const code = semi < 0 ? body : body.slice(0, semi);
  const args = semi < 0 ? '' : body.slice(semi + 1);
  switch (code) {
    case '9':
      // OSC 9;4;… is ConEmu's progress bar, and OSC 9;1–12 are its other commands.
      if (/^\d+(;|$)/.test(args)) return null;
      return { kind: 'osc9', text: args.trim() };
    case '99': {
      // kitty: `99 ; key=value:… ; payload`; `p=title` / `p=body` parts, base64 when `e=1`.
      const cut = args.indexOf(';');
      const meta = cut < 0 ? '' : args.slice(0, cut);
      const payload = cut < 0 ? args : args.slice(cut + 1);
      const encoded = /(^|:)e=1(:|$)/.test(meta);
      return { kind: 'osc99', text: (encoded ? Buffer.from(payload, 'base64').toString('utf8') : payload).trim() };
    }
    case '777': {
      const [what, title = '', ...body] = args.split(';');
      if (what !== 'notify') return null;
      return { kind: 'osc777', text: [title, body.join(';')].filter((s) => s.trim() !== '').join(': ').trim() };
    }
    default:
      return null;
  }
}
