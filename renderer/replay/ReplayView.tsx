/**
 * A pane in Replay mode: its own terminal (the live one keeps streaming, hidden, so "Back to live"
 * is instant and loses nothing), the scrubber and the playback controls. The replay controller
 * does the work; this view hands it a DOM node and renders its state.
 */
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { onAgentActivity } from '../store/activity.js';
import type { PaneModel } from '../store/appStore.js';
import { NextErrorIcon, PauseIcon, PlayIcon, PreviousErrorIcon, StepBackIcon, StepForwardIcon } from '../components/Icons.js';
import { appStore, useApp } from '../store/useApp.js';
import { usePaneFit } from '../components/usePaneFit.js';
import { judgeLink } from '../terminal/hostileOutput.js';
import { registerController } from '../terminal/paneRegistry.js';
import { TerminalController } from '../terminal/terminalController.js';
import { formatRunTime, IDLE_CAPS, REPLAY_SPEEDS } from './playbackClock.js';
import { registerReplay, ReplayController, type ReplayStatus, type ReplayTarget } from './replayController.js';
import { openLinkedAt, openToolCall } from './linkedRuns.js';
import { Scrubber } from './Scrubber.js';

/**
 * While a replayed run is still live, its timeline is read again at most this often: each read
 * goes through the whole log on the backend, so not on every batch.
 */
const TIMELINE_REFRESH_MS = 5000;

export function ReplayView({ pane }: { pane: PaneModel }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const mountRef = useRef<HTMLDivElement>(null);
  const [replay, setReplay] = useState<{ terminal: TerminalController; controller: ReplayController } | null>(null);
  const theme = useApp((s) => s.theme);
  const { key, agent } = pane;

  useLayoutEffect(() => {
    const terminal = new TerminalController({
      theme: appStore.getState().theme,
      cols: pane.cols ?? 80,
      rows: pane.rows ?? 24,
      onLink: (uri) => {
        const verdict = judgeLink(uri);
        appStore.getState().setLinkRequest({ uri, url: verdict.allowed ? verdict.url : null, reason: verdict.allowed ? null : verdict.reason });
      },
      onSearchResult: ({ index, count }) => appStore.getState().setSearchResult(key, index, count),
    });
    terminal.open(mountRef.current!);
    const controller = new ReplayController(agent, terminal);
    const unregisterTerminal = registerController(key, terminal, 'replay');
    const unregisterReplay = registerReplay(key, controller);
    setReplay({ terminal, controller });
    return () => {
      unregisterReplay();
      unregisterTerminal();
      controller.dispose();
      terminal.dispose();
      setReplay(null);
    };
    // One replay terminal per stay in Replay mode; its size comes from the run itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => replay?.terminal.setTheme(theme), [replay, theme]);

  // Every new request (entering Replay mode, a search hit, a deep link) seeks to its moment.
  const request = pane.replay;
  useEffect(() => {
    if (!replay || !request) return;
    const target: ReplayTarget = request.seq !== null ? { seq: request.seq } : request.time !== null ? { time: request.time } : { end: true };
    void replay.controller.open(target);
  }, [replay, request?.nonce]); // eslint-disable-line react-hooks/exhaustive-deps

  // A live run grows while it is replayed: its scrubber follows, a few times a minute.
  useEffect(() => {
    if (!replay) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = onAgentActivity(key, () => {
      timer ??= setTimeout(() => {
        timer = null;
        void replay.controller.loadTimeline();
      }, TIMELINE_REFRESH_MS);
    });
    return () => {
      stop();
      if (timer !== null) clearTimeout(timer);
    };
  }, [replay, key]);

  usePaneFit(hostRef, replay?.terminal ?? null, key, true);

  return (
    <>
      <div className="term-host replay-host" ref={hostRef}>
        <div className="term-mount" ref={mountRef} />
      </div>
      {replay && <ReplayBar controller={replay.controller} paneKey={key} />}
    </>
  );
}

function useReplayStatus(controller: ReplayController): ReplayStatus {
  return useSyncExternalStore(
    (listener) => controller.subscribe(listener),
    () => controller.status,
  );
}

/** The playback controls under the replay terminal. */
function ReplayBar({ controller, paneKey }: { controller: ReplayController; paneKey: string }) {
  const status = useReplayStatus(controller);
  const { timeline } = status;
  const start = timeline?.start ?? null;
  const position = status.time !== null && start !== null ? formatRunTime(status.time - start) : '0:00.0';
  const duration = timeline?.start != null && timeline.end != null ? formatRunTime(timeline.end - timeline.start) : '–';
  const clock = status.time !== null ? new Date(status.time / 1000).toLocaleTimeString([], { hour12: false }) : '';
  return (
    <div
      className="replay-bar"
      data-seq={status.seq}
      data-playing={status.playing}
      data-speed={status.speed}
      data-seeking={status.seeking}
      data-at-end={status.atEnd}
    >
      {timeline ? (
        <Scrubber timeline={timeline} time={status.time} onSeek={(t) => controller.seek(t)} links={status.links} onOpenToolCall={(call) => status.links && openToolCall(status.links, call)} />
      ) : (
        <div className="scrubber is-empty">Loading the timeline…</div>
      )}
      <div className="replay-controls">
        <button className="icon-btn" title="Previous error ([)" aria-label="Previous error" onClick={() => controller.jumpToError(-1)}>
          <PreviousErrorIcon />
        </button>
        <button className="icon-btn" title="Step back one entry (←)" aria-label="Step back" onClick={() => controller.stepBack()}>
          <StepBackIcon />
        </button>
        <button className="btn btn-small replay-play" title="Play or pause (Space)" aria-label={status.playing ? 'Pause' : 'Play'} onClick={() => controller.togglePlay()}>
          {status.playing ? <PauseIcon /> : <PlayIcon />}
          <span className="replay-label">{status.playing ? 'Pause' : 'Play'}</span>
        </button>
        <button className="icon-btn" title="Step forward one entry (→)" aria-label="Step forward" onClick={() => void controller.stepForward()}>
          <StepForwardIcon />
        </button>
        <button className="icon-btn" title="Next error (])" aria-label="Next error" onClick={() => controller.jumpToError(1)}>
          <NextErrorIcon />
        </button>
        <label className="replay-select" title="Playback speed (↑ faster, ↓ slower)">
          <select aria-label="Speed" value={status.speed} onChange={(e) => {
              controller.setSpeed(Number(e.target.value));
              e.currentTarget.blur(); // hand the keys back to the replay (Space, arrows)
            }}>
            {REPLAY_SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label className="replay-select" title="Idle pauses longer than this are shortened">
          <span className="replay-label">idle ≤</span>
          <select
            aria-label="Idle cap"
            value={status.idleCap ?? 'off'}
            onChange={(e) => {
              controller.setIdleCap(e.target.value === 'off' ? null : Number(e.target.value));
              e.currentTarget.blur();
            }}
          >
            {IDLE_CAPS.map((c) => (
              <option key={c ?? 'off'} value={c ?? 'off'}>
                {c === null ? 'off' : `${c} s`}
              </option>
            ))}
          </select>
        </label>
        {/* The run time is never cut; the wall clock and entry number give way first in a narrow pane. */}
        <span className="replay-time" title={status.time !== null ? new Date(status.time / 1000).toISOString() : undefined}>
          <span className="replay-position">{position}</span> / {duration}
        </span>
        <span className="replay-extra muted">
          · {clock} · #{status.seq}
        </span>
        {status.seeking && <span className="muted replay-busy">seeking…</span>}
        {status.error && <span className="replay-error">{status.error}</span>}
        {status.links !== null && status.links.linked.length > 0 && (
          <button
            className="btn btn-small replay-linked"
            title={status.links.isTranscript ? 'Open the terminal run at this moment' : 'Open the agent transcript at this moment'}
            onClick={() => status.links && status.time !== null && openLinkedAt(status.links, status.time)}
            disabled={status.time === null}
          >
            {status.links.isTranscript ? 'Terminal' : 'Transcript'}
          </button>
        )}
        <button className="btn btn-small replay-live" title="Back to live (L)" aria-label="Back to live" onClick={() => appStore.getState().closeReplay(paneKey)}>
          <span className="replay-label">Back to </span>live
        </button>
      </div>
    </div>
  );
}
