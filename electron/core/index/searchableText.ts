/**
 * The text that search sees: content without ANSI escape sequences, with carriage returns
 * turned into line breaks so a progress bar's `50%\r60%` never matches `%6` across the overwrite,
 * and without the `\r` a line ends in.
 */
import stripAnsi from 'strip-ansi';

const ESC = '\u001b';
const CSI = '\u009b';

export function searchableText(content: string): string {
  // Most lines carry no escape sequence; skipping strip-ansi's regex for them is a large share of indexing time.
  const plain = content.includes(ESC) || content.includes(CSI) ? stripAnsi(content) : content;
  if (!plain.includes('\r')) return plain;
  // A trailing `\r` (a pty's line ending) is not content: `end$` must match `alpha end\r`.
  return plain.replace(/\r+$/, '').replace(/\r\n?/g, '\n');
}
