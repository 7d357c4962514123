/** A pane's status line: the run summary from the index (state, duration, entries, errors, output rate; tokens and cost of a transcript). */
import { useEffect, useState } from 'react';
import { invoke } from '../bridge.js';
import { onAgentActivity } from '../store/activity.js';
import type { PaneModel } from '../store/appStore.js';
import { appStore, useApp } from '../store/useApp.js';
import { formatUsd, totalTokens } from '../../shared/cost.js';
import { formatBytes, formatCount, formatDuration } from './format.js';

/** The summary is re-read at most this often while the agent writes. */
const SUMMARY_REFRESH_MS = 1000;

export function PaneStatus({ pane }: { pane: PaneModel }) {
  const summary = useApp((s) => s.summaries[pane.key]);
  const listed = useApp((s) =>
    s.workspace?.roots
      .find((r) => r.root === pane.agent.root)
      ?.tasks.find((t) => t.taskId === pane.agent.taskId)
      ?.agents.find((a) => a.agentId === pane.agent.agentId),
  );
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const { key, agent } = pane;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async () => {
      try {
        const summaries = await invoke('index:stats', { agentId: agent.agentId, taskId: agent.taskId });
        // One summary per run; the newest run is the one the pane shows.
        const mine = summaries.filter((r) => r.root === agent.root).at(-1) ?? summaries.at(-1);
        if (!cancelled && mine) appStore.getState().setSummary({ ...mine, root: agent.root });
        if (!cancelled) setUnavailable(null);
      } catch (err) {
        // The index may not know a brand-new agent yet; the next activity retries.
        if (!cancelled) setUnavailable((err as Error).message);
      }
    };
    void load();
    const stop = onAgentActivity(key, () => {
      if (timer === null) timer = setTimeout(() => ((timer = null), void load()), SUMMARY_REFRESH_MS);
    });
    return () => {
      cancelled = true;
      stop();
      if (timer !== null) clearTimeout(timer);
    };
  }, [key, agent]);

  // A live run's duration grows every second even when it prints nothing.
  const live = summary?.status === 'live';
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);

  if (!summary) {
    // Without the index, show what the workspace listing knows.
    return (
      <footer className="pane-status" data-state={listed?.state} title={unavailable ?? undefined}>
        {listed && <span className={`state-badge state-${listed.state}`}>{listed.state}</span>}
        {listed && <span>{formatCount(listed.entries)} entries</span>}
        {listed?.exitStatus != null && <span>exit {listed.exitStatus}</span>}
        <span className="muted">{unavailable ? 'run summary unavailable' : 'loading summary…'}</span>
      </footer>
    );
  }
  const started = summary.start ? Date.parse(summary.start) : NaN;
  const duration = live && !Number.isNaN(started) ? now - started : summary.durationMs;
  return (
    <footer className="pane-status" data-state={summary.status}>
      <span className={`state-badge state-${summary.status}`}>{summary.status}</span>
      {duration !== null && <span title="Duration">{formatDuration(Math.max(0, duration))}</span>}
      <span title="Entries">{formatCount(summary.entries)} entries</span>
      <span className={summary.errors > 0 ? 'status-errors' : ''} title="Screen lines at level error or fatal, of any type (E lists them)">
        {summary.errors} {summary.errors === 1 ? 'error' : 'errors'}
      </span>
      {summary.warnings > 0 && <span className="status-warnings">{summary.warnings} warn</span>}
      <span title="Average output rate">{formatBytes(summary.bytesPerSecond)}/s</span>
      {summary.exitStatus !== null && <span title="Exit status">exit {summary.exitStatus}</span>}
      {summary.gaps > 0 && <span className="status-warnings" title="Places where output is known to be missing">{summary.gaps} gaps</span>}
      {summary.tokens && (
        <span
          className="status-tokens"
          title={`Tokens: input ${summary.tokens.input}, output ${summary.tokens.output}, cache read ${summary.tokens.cacheRead}, cache write ${summary.tokens.cacheWrite}; cost from Loupe's price table`}
        >
          {formatCount(totalTokens(summary.tokens))} tokens · {formatUsd(summary.costUsd)}
        </span>
      )}
      {summary.captureMethod && <span className="muted">{summary.captureMethod}</span>}
    </footer>
  );
}
