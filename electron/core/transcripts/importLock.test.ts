import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportLockTimeout, withImportLock } from './importLock.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-import-lock-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Keeps the thread busy for `ms`, as an import of a file does. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('the import lock', () => {
  it('lets a waiting importer in between the files of one that yields, instead of after all of them', async () => {
    const order: string[] = [];
    const holder = (async () => {
      for (let i = 0; i < 40; i++) await withImportLock(root, () => (busy(10), order.push('holder')), { yieldMs: 200 });
    })();
    while (order.length === 0) await new Promise((r) => setTimeout(r, 5));
    await withImportLock(root, () => order.push('waiter'));
    await holder;
    expect(order.indexOf('waiter')).toBeLessThan(10);
  });

  it('gives up after waitMs, saying another import holds the root', async () => {
    let release = () => {};
    const held = withImportLock(root, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    await expect(withImportLock(root, () => 1, { waitMs: 200 })).rejects.toThrow(ImportLockTimeout);
    release();
    await held;
    expect(await withImportLock(root, () => 2)).toBe(2);
  });
});
