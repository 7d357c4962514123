import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentRef, ReplayScreen, ReplayTimeline } from '../../shared/ipc.js';
import type { TerminalController } from '../terminal/terminalController.js';

// The bridge is the boundary to the backend; here it answers like a server that is busy indexing
// a big root: the index's channel (`index:links`) does not answer, the replay channels do.
const calls = vi.hoisted(() => ({ links: [] as Array<(value: unknown) => void> }));
vi.mock('../bridge.js', () => ({
  invoke: (channel: string) => {
    if (channel === 'index:links') return new Promise((resolve) => calls.links.push(resolve));
    if (channel === 'replay:timeline') return Promise.resolve(timeline);
    if (channel === 'replay:seek') return Promise.resolve(screen);
    return Promise.reject(new Error(`unexpected call ${channel}`));
  },
}));
const { ReplayController } = await import('./replayController.js');

const agent: AgentRef = { root: '/tmp/root', taskId: 'TASK-20260101-120000-0a1b2c3d', agentId: 'migrate' };
const timeline: ReplayTimeline = {
  agentId: agent.agentId,
  taskId: agent.taskId,
  start: 0,
  end: 10_000_000,
  firstSeq: 1,
  lastSeq: 10,
  entries: 10,
  bytes: 50,
  bucketMicros: 1_000_000,
  buckets: [],
  markers: [],
  resizes: [],
  gaps: [],
};
const screen: ReplayScreen = { seq: 10, time: 10_000_000, cols: 80, rows: 24, state: 'hello', next: { file: 'log.jsonl', offset: 500 }, keyframeSeq: null, bytesReplayed: 5 };
const terminal = { afterParsed: (done: () => void) => done(), reset() {}, resize() {}, write() {} } as unknown as TerminalController;

afterEach(() => {
  calls.links.length = 0;
});

describe('ReplayController', () => {
  it('draws the scrubber and the first screen while the index is still busy, and adds the links when they come', async () => {
    const replay = new ReplayController(agent, terminal);
    const opened = replay.open({ end: true });
    const inTime = await Promise.race([opened.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2000))]);
    expect(inTime).toBe(true);
    await replay.settled();
    expect(replay.status.timeline).toBe(timeline);
    expect(replay.status.seq).toBe(10);
    expect(replay.status.links).toBeNull();
    expect(calls.links).toHaveLength(1);
    const links = { isTranscript: false, linked: [], toolCalls: [], truncated: false };
    calls.links[0](links);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(replay.status.links).toEqual(links);
    expect(replay.status.error).toBeNull();
  });
});
