import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completeEnd, linesBackward } from './backwards.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-backwards-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('linesBackward', () => {
  it('yields the same lines as a forward split, last first, across chunk edges', () => {
    // Short, empty, multi-byte and longer-than-a-chunk (256 KiB) lines, then a torn tail.
    const lines = ['first', '', 'é日😀'.repeat(10), 'x'.repeat(600_000), 'mid', 'y'.repeat(262_143), 'é'.repeat(200_000), 'last'];
    const file = path.join(dir, 'f.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n' + 'torn');
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const got = [...linesBackward(fd, size)];
      expect(got.map((l) => l.text)).toEqual([...lines].reverse());
      const text = fs.readFileSync(file);
      for (const l of got) expect(text.subarray(l.offset, l.offset + l.length).toString()).toBe(l.text);
      expect(completeEnd(fd, size)).toBe(size - 4);
    } finally {
      fs.closeSync(fd);
    }
  });
});
