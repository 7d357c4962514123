/** Where `loupe store prune` writes an agent's archive (store/prune.ts), for names any shipping machine may write. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveFile } from './prune.js';

describe('archiveFile', () => {
  it('puts an archive under machine, root, task and agent', () => {
    const file = archiveFile('/archive', { machine: 'box-1', root: '/home/me/work', task_id: 'TASK-1', agent_id: 'claude' }, '202611');
    expect(file).toBe('/archive/box-1/home_me_work/TASK-1/claude_stream.jsonl.20261101T000000.gz');
  });

  it('stays inside the archive folder whatever names the store holds', () => {
    const hostile = ['..', '.', '', '/..', '../..', 'a/../../b', '/', '..\\..'];
    for (const name of hostile) {
      const file = archiveFile('/archive', { machine: name, root: name, task_id: name, agent_id: name }, '202611');
      expect(path.relative('/archive', file).split(path.sep).length, `${JSON.stringify(name)} -> ${file}`).toBe(4);
      expect(path.relative('/archive', file).split(path.sep), `${JSON.stringify(name)} -> ${file}`).not.toContain('..');
    }
  });
});
