/**
 * The text that search sees: content without ANSI escape sequences, with carriage returns
 * turned into line breaks so a progress bar's `50%\r60%` never matches `%6` across the overwrite,
 * and without the `\r` a line ends in.
 */
import { visibleText } from '../redact/terminalEscapes.js';

export function searchableText(content: string): string {
  // 8-bit C1 sequences count as escapes too (RELIABILITY E7).
  const plain = visibleText(content).visible;
  if (!plain.includes('\r')) return plain;
  // A trailing `\r` (a pty's line ending) is not content: `end$` must match `alpha end\r`.
  return plain.replace(/\r+$/, '').replace(/\r\n?/g, '\n');
}
