/**
 * The replay timeline: an activity histogram (output bytes over time), error and warning markers,
 * gaps and resize marks, the linked transcript's tool calls, and the playhead. Pressing or
 * dragging seeks; near an error marker the pointer snaps to it, so dragging onto a traceback
 * lands on the traceback. A tool call's marker opens the other side of the link at that call.
 */
import { memo, useCallback, useMemo, useRef, useState } from 'react';
import type { LinkedToolCall, ReplayTimeline, RunLinks } from '../../shared/ipc.js';
import { markTitle, shownMarks } from './markBins.js';
import type { ReplayTarget } from './replayController.js';

/** The histogram's drawing width in SVG units (it stretches to the scrubber's width). */
const WIDTH = 1000;
const HEIGHT = 28;
/** Pixels within which the pointer snaps to an error marker. */
const SNAP_PX = 5;

export interface ScrubberProps {
  timeline: ReplayTimeline;
  /** The time shown now (µs), or null before the first entry. */
  time: number | null;
  onSeek: (target: ReplayTarget) => void;
  /** What the run is linked to; its tool calls are drawn as markers. */
  links: RunLinks | null;
  onOpenToolCall: (call: LinkedToolCall) => void;
}

export function Scrubber({ timeline, time, onSeek, links, onOpenToolCall }: ScrubberProps) {
  const ref = useRef<HTMLDivElement>(null);
  /** Where the pointer dragged the playhead to (shown at once, before the seek lands). */
  const [dragFraction, setDragFraction] = useState<number | null>(null);
  const errors = useMemo(() => timeline.markers.filter((m) => m.level === 'error' || m.level === 'fatal'), [timeline]);
  // The marks are drawn once per timeline: a seek re-renders only the playhead (a long run has
  // thousands of marks, and redrawing them made every seek in a 1 GB run take 400 ms).
  const openRef = useRef(onOpenToolCall);
  openRef.current = onOpenToolCall;
  const openToolCall = useCallback((call: LinkedToolCall) => openRef.current(call), []);
  const { start, end } = timeline;
  if (start === null || end === null) return <div className="scrubber is-empty">No output recorded yet.</div>;
  const span = Math.max(1, end - start);
  const fractionOf = (t: number) => Math.min(1, Math.max(0, (t - start) / span));

  /** The seek a pointer at `clientX` asks for, and where the playhead goes. */
  const targetAt = (clientX: number): { target: ReplayTarget; fraction: number } => {
    const rect = ref.current!.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (clientX - rect.left) / Math.max(1, rect.width)));
    // Snap to the last error of the cluster under the pointer: the whole traceback is on screen then.
    let snapped: (typeof errors)[number] | null = null;
    let best = Infinity;
    for (const m of errors) {
      const d = Math.abs(fractionOf(m.time) - fraction) * rect.width;
      if (d <= SNAP_PX && d <= best + 0.5) {
        best = Math.min(best, d);
        snapped = m;
      }
    }
    if (snapped !== null) return { target: { seq: snapped.seq }, fraction: fractionOf(snapped.time) };
    return { target: { time: start + fraction * span }, fraction };
  };

  const seekAt = (clientX: number) => {
    const { target, fraction } = targetAt(clientX);
    setDragFraction(fraction);
    onSeek(target);
  };

  const shown = dragFraction ?? (time === null ? 0 : fractionOf(time));
  return (
    <div
      ref={ref}
      className="scrubber"
      role="slider"
      aria-label="Replay position"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(shown * 100)}
      tabIndex={-1}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.currentTarget.setPointerCapture(e.pointerId);
        seekAt(e.clientX);
      }}
      onPointerMove={(e) => {
        if (e.currentTarget.hasPointerCapture(e.pointerId)) seekAt(e.clientX);
      }}
      onPointerUp={(e) => {
        e.currentTarget.releasePointerCapture(e.pointerId);
        setDragFraction(null);
      }}
      onPointerCancel={() => setDragFraction(null)}
    >
      <TimelineMarks timeline={timeline} errors={errors} links={links} onOpenToolCall={openToolCall} />
      <div className="playhead" style={{ left: `${shown * 100}%` }} />
    </div>
  );
}

interface TimelineMarksProps {
  timeline: ReplayTimeline;
  errors: ReplayTimeline['markers'];
  links: RunLinks | null;
  onOpenToolCall: (call: LinkedToolCall) => void;
}

/** The histogram and every mark: they change only with the timeline and the links. */
const TimelineMarks = memo(function TimelineMarks({ timeline, errors, links, onOpenToolCall }: TimelineMarksProps) {
  const start = timeline.start ?? 0;
  const end = timeline.end ?? start;
  const span = Math.max(1, end - start);
  const fractionOf = (t: number) => Math.min(1, Math.max(0, (t - start) / span));
  const x = (t: number) => fractionOf(t) * WIDTH;
  const maxBytes = Math.max(1, ...timeline.buckets.map((b) => b.bytes));
  const warnings = timeline.markers.filter((m) => m.level === 'warn');
  return (
    <>
      <svg className="scrubber-svg" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true">
        {timeline.buckets.map((b, i) => {
          if (b.bytes === 0) return null;
          // Square root: a burst of a megabyte must not flatten the quiet parts to nothing.
          const h = Math.max(1.5, Math.sqrt(b.bytes / maxBytes) * (HEIGHT - 6));
          const w = WIDTH / timeline.buckets.length;
          const kind = b.errors > 0 ? 'bar-error' : b.warnings > 0 ? 'bar-warn' : 'bar';
          return <rect key={i} className={kind} x={i * w} y={HEIGHT - h} width={Math.max(w - 0.6, 0.6)} height={h} />;
        })}
        {timeline.gaps.map((g) => (
          <rect key={`g${g.seq}`} className="mark-gap" x={x(g.time) - 2} y={0} width={4} height={HEIGHT} />
        ))}
      </svg>
      <div className="scrubber-marks">
        {timeline.resizes.slice(1).map((r) => (
          <span key={`r${r.seq}`} className="mark mark-resize" style={{ left: `${fractionOf(r.time) * 100}%` }} title={`Resized to ${r.cols}×${r.rows}`} />
        ))}
        {timeline.gaps.map((g) => (
          <span key={`g${g.seq}`} className="mark mark-gap-line" style={{ left: `${fractionOf(g.time) * 100}%` }} title={`Output missing: ${g.reason}`} />
        ))}
        {shownMarks(warnings, fractionOf).map((shown) => (
          <span key={`w${shown.mark.seq}`} className="mark mark-warn" data-seq={shown.mark.seq} style={{ left: `${fractionOf(shown.mark.time) * 100}%` }} title={markTitle(shown, 'warning')} />
        ))}
        {shownMarks(errors, fractionOf).map((shown) => (
          <span key={`e${shown.mark.seq}`} className="mark mark-error" data-seq={shown.mark.seq} style={{ left: `${fractionOf(shown.mark.time) * 100}%` }} title={markTitle(shown, 'error')} />
        ))}
        {links !== null &&
          links.linked.length > 0 &&
          links.toolCalls
            .filter((c) => c.time >= start && c.time <= end)
            .map((c) => (
              <button
                key={`t${c.transcript.agentId}:${c.seq}`}
                className="mark mark-tool"
                data-seq={c.seq}
                data-agent={c.transcript.agentId}
                style={{ left: `${fractionOf(c.time) * 100}%` }}
                title={`${c.text}\n${links.isTranscript ? 'Open the terminal at this tool call' : 'Open the transcript at this tool call'}`}
                aria-label={`Tool call ${c.text}`}
                // The scrubber seeks on pointerdown: a marker is a button of its own.
                onPointerDown={(e) => e.stopPropagation()}
                onClick={() => onOpenToolCall(c)}
              />
            ))}
      </div>
    </>
  );
});
