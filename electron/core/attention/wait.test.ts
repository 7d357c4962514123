import { describe, expect, it } from 'vitest';
import type { Attention, AttentionState } from '../../../shared/ipc.js';
import { waitForAttention } from './wait.js';

const attention = (state: AttentionState): Attention => ({ state, since: '2026-01-01T00:00:00Z', reason: 'test', prompt: null });

/** A `look` that answers `states` in turn (the last one for ever), counting its calls. */
function looks(...states: AttentionState[]) {
  let calls = 0;
  return {
    look: async () => attention(states[Math.min(calls++, states.length - 1)]),
    get calls() {
      return calls;
    },
  };
}

describe('waitForAttention', () => {
  it('looks again until the agent reaches the state', async () => {
    const agent = looks('working', 'working', 'idle');
    expect(await waitForAttention(agent.look, 'idle', 10_000)).toEqual({ attention: attention('idle'), reached: true });
    expect(agent.calls).toBe(3);
  });

  it('counts any state but working for "any", and only that state otherwise', async () => {
    expect((await waitForAttention(looks('waiting').look, 'any', 0)).reached).toBe(true);
    expect((await waitForAttention(looks('waiting').look, 'idle', 0)).reached).toBe(false);
  });

  it('gives up after the timeout with the last state seen, having looked at least once', async () => {
    const agent = looks('working');
    expect(await waitForAttention(agent.look, 'ended', 0)).toEqual({ attention: attention('working'), reached: false });
    expect(agent.calls).toBe(1);
  });

  it('stops when the signal aborts, without looking again', async () => {
    const agent = looks('working');
    const abort = new AbortController();
    const outcome = waitForAttention(agent.look, 'ended', 60_000, abort.signal);
    abort.abort();
    expect(await outcome).toEqual({ attention: attention('working'), reached: false });
    expect(agent.calls).toBe(1);
  });
});
