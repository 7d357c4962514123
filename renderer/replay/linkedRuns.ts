/**
 * Following a link between a terminal run and an agent transcript (`index:links`): from a tool
 * call's marker, or from the moment the replay shows, one click opens the other side at the same
 * moment, through the same `openAgent` that deep links use.
 */
import type { AgentRef, LinkedToolCall, RunLinks } from '../../shared/ipc.js';
import { appStore } from '../store/useApp.js';

type LinkedRunSpan = RunLinks['linked'][number];

/** A tool call's marker: a terminal run opens the transcript at the call; a transcript opens the terminal run at its time. */
export function openToolCall(links: RunLinks, call: LinkedToolCall): void {
  if (!links.isTranscript) appStore.getState().openAgent(call.transcript, { replay: { seq: call.seq } });
  else openLinkedAt(links, call.time);
}

/** Opens the linked run that covers `time` (the nearest one when none does) in Replay mode at `time`. */
export function openLinkedAt(links: RunLinks, time: number): void {
  const run = linkedRunAt(links, time);
  if (run !== null) appStore.getState().openAgent(refOf(run), { replay: { time } });
}

/** The linked run whose span holds `time`, else the one that starts or ends nearest to it. */
export function linkedRunAt(links: RunLinks, time: number): LinkedRunSpan | null {
  let best: LinkedRunSpan | null = null;
  let bestDistance = Infinity;
  for (const run of links.linked) {
    const start = run.start ?? -Infinity;
    const end = run.end ?? Infinity;
    const distance = time < start ? start - time : time > end ? time - end : 0;
    if (distance < bestDistance) {
      best = run;
      bestDistance = distance;
    }
  }
  return best;
}

function refOf(run: LinkedRunSpan): AgentRef {
  return { root: run.root, taskId: run.taskId, agentId: run.agentId };
}
