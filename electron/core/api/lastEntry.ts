/** The last entry of a log file, read backwards from its end. */
import fs from 'node:fs';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import { linesBackward } from '../log/backwards.js';

/** The last valid entry of `file`, or null when it is missing or holds none. */
export function lastEntryOf(file: string): LogEntry | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    for (const line of linesBackward(fd, fs.fstatSync(fd).size)) {
      const parsed = parseEntryLine(line.text);
      if (parsed.ok) return parsed.entry;
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
