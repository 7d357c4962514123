/**
 * Waiting for an agent to need the user, go quiet or end (SPEC §13): the loop behind
 * `loupe wait` and the MCP tool `wait_for_agent`. Each caller says how to read the agent's
 * attention; this only looks again until it reaches the target or time runs out.
 */
import type { Attention } from '../../../shared/ipc.js';

/** What a caller can wait for: a state, or `any` (any of them: no longer working). */
export const WAIT_TARGETS = ['waiting', 'idle', 'ended', 'any'] as const;
export type WaitTarget = (typeof WAIT_TARGETS)[number];

/** How often the agent is looked at: a state lasts seconds, so this is quick enough and cheap. */
const POLL_MS = 500;

export interface WaitOutcome {
  /** The last attention seen. */
  attention: Attention;
  /** False when the timeout passed (or the wait was aborted) first. */
  reached: boolean;
}

function reachedTarget(attention: Attention, target: WaitTarget): boolean {
  return target === 'any' ? attention.state !== 'working' : attention.state === target;
}

/**
 * Reads the attention with `look` until it reaches `target`, `timeoutMs` passes (at least one
 * look is always made) or `signal` aborts. Errors from `look` end the wait.
 */
export async function waitForAttention(
  look: () => Promise<Attention>,
  target: WaitTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<WaitOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attention = await look();
    if (reachedTarget(attention, target)) return { attention, reached: true };
    if (Date.now() >= deadline) return { attention, reached: false };
    await pause(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signal);
    if (signal?.aborted === true) return { attention, reached: false };
  }
}

/** Sleeps `ms`, or less if `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
