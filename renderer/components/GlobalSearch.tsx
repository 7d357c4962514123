/**
 * Search across every agent and run (the index). Results are grouped by agent, with the type and
 * level distributions and a timeline histogram. Clicking a hit opens its agent with the hit in view.
 */
import { useEffect, useRef } from 'react';
import { ENTRY_TYPES, LEVELS, type EntryType, type Level } from '../../shared/entry.js';
import type { HistogramBucket, SearchHit } from '../../shared/ipc.js';
import { SEARCH_SOURCES, type SearchSource } from '../../shared/entry.js';
import { invoke } from '../bridge.js';
import { agentKey } from '../store/agentKey.js';
import type { GlobalSearchState } from '../store/appStore.js';
import { appStore, useApp } from '../store/useApp.js';
import { formatCount, formatTime } from './format.js';
import { taskLabel } from './Sidebar.js';

/** Hits fetched per search; the total is exact regardless. */
const HIT_LIMIT = 500;
/** What each search source holds. */
const SOURCE_TITLES: Record<SearchSource, string> = {
  terminal: 'Only what terminals showed: captured panes and imported recordings',
  transcript: 'Only agent transcripts: imported Claude Code and Codex sessions',
};
/** Wait for a pause in typing before querying. */
const TYPING_DEBOUNCE_MS = 250;

export function GlobalSearch() {
  const search = useApp((s) => s.globalSearch);
  const inputRef = useRef<HTMLInputElement>(null);
  const update = (patch: Partial<GlobalSearchState>) => appStore.getState().updateGlobalSearch(patch);

  useEffect(() => inputRef.current?.focus(), []);

  useEffect(() => {
    if (search.text.trim() === '' && search.types.length === 0 && search.levels.length === 0 && search.source === null) {
      update({ result: null, error: null, loading: false });
      return;
    }
    let cancelled = false;
    const timer = setTimeout(async () => {
      update({ loading: true });
      try {
        const result = await invoke('index:search', {
          ...(search.text !== '' ? { text: search.text } : {}),
          regex: search.regex,
          ...(search.types.length > 0 ? { types: search.types } : {}),
          ...(search.levels.length > 0 ? { levels: search.levels } : {}),
          ...(search.source !== null ? { source: search.source } : {}),
          limit: HIT_LIMIT,
          sort: 'desc',
        });
        if (!cancelled) update({ result, error: null, loading: false });
      } catch (err) {
        if (!cancelled) update({ error: (err as Error).message, loading: false });
      }
    }, TYPING_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [search.text, search.regex, search.types, search.levels, search.source]);

  const toggle = <T,>(list: T[], value: T) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const groups = groupByAgent(search.result?.hits ?? []);

  return (
    <div className="global-search">
      <div className="gs-bar" role="search">
        <input
          ref={inputRef}
          className="gs-input"
          aria-label="Search all agents"
          placeholder="Search every agent and run — e.g. Traceback"
          value={search.text}
          spellCheck={false}
          onChange={(e) => update({ text: e.target.value })}
        />
        <button className={`toggle${search.regex ? ' is-on' : ''}`} aria-pressed={search.regex} title="Regular expression" onClick={() => update({ regex: !search.regex })}>
          .*
        </button>
      </div>
      <div className="gs-facets">
        <span className="filter-label">Source</span>
        {SEARCH_SOURCES.map((source) => (
          <button
            key={source}
            className={`chip chip-source${search.source === source ? ' is-on' : ''}`}
            aria-pressed={search.source === source}
            title={SOURCE_TITLES[source]}
            onClick={() => update({ source: search.source === source ? null : source })}
          >
            {source}
          </button>
        ))}
        <span className="filter-label">Type</span>
        {ENTRY_TYPES.map((type) => (
          <button key={type} className={`chip chip-${type}${search.types.includes(type) ? ' is-on' : ''}`} aria-pressed={search.types.includes(type)} onClick={() => update({ types: toggle<EntryType>(search.types, type) })}>
            {type}
            {search.result?.byType[type] !== undefined && <span className="chip-count">{formatCount(search.result.byType[type]!)}</span>}
          </button>
        ))}
        <span className="filter-label">Level</span>
        {LEVELS.map((level) => (
          <button key={level} className={`chip chip-level-${level}${search.levels.includes(level) ? ' is-on' : ''}`} aria-pressed={search.levels.includes(level)} onClick={() => update({ levels: toggle<Level>(search.levels, level) })}>
            {level}
            {search.result?.byLevel[level] !== undefined && <span className="chip-count">{formatCount(search.result.byLevel[level]!)}</span>}
          </button>
        ))}
      </div>
      {search.error && <div className="filter-error">{search.error}</div>}
      {search.result && (
        <>
          <div className="gs-summary">
            <strong className="gs-total">{search.result.total.toLocaleString()}</strong> {search.result.total === 1 ? 'hit' : 'hits'} in {groups.length}{' '}
            {groups.length === 1 ? 'agent' : 'agents'}
            {search.result.total > search.result.hits.length && <span className="muted"> · showing the newest {search.result.hits.length}</span>}
            {search.loading && <span className="muted"> · searching…</span>}
          </div>
          <Histogram buckets={search.result.histogram.buckets} bucketMs={search.result.histogram.bucketMs} />
        </>
      )}
      {!search.result && !search.loading && <div className="gs-empty muted">Type to search the output of every agent, like grep across all runs.</div>}
      <div className="gs-results">
        {groups.map(({ key, hits }) => (
          <section key={key} className="gs-group">
            <header className="gs-group-head">
              <span className="gs-agent">{hits[0].agentId}</span>
              {hits[0].machine !== undefined && <span className="gs-machine">{hits[0].machine}</span>}
              <span className="muted">{taskLabel(hits[0].taskId)}</span>
              <span className="count">{hits.length}</span>
            </header>
            {hits.map((hit) => (
              <button
                key={hit.sequence}
                className={`gs-hit level-${hit.level}`}
                data-agent={hit.agentId}
                data-sequence={hit.sequence}
                title="Open the replay at this moment"
                onClick={() =>
                  appStore.getState().openAgent({ root: hit.root, taskId: hit.taskId, agentId: hit.agentId }, { replay: { seq: hit.sequence } })
                }
              >
                <span className="line-time">{formatTime(hit.timestamp)}</span>
                <span className={`line-type type-${hit.type}`}>{hit.type}</span>
                <span className="line-text">
                  <Highlighted text={hit.text} matches={hit.matches} />
                </span>
              </button>
            ))}
          </section>
        ))}
      </div>
    </div>
  );
}

function groupByAgent(hits: SearchHit[]): { key: string; hits: SearchHit[] }[] {
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const key = agentKey(hit);
    const list = groups.get(key);
    if (list) list.push(hit);
    else groups.set(key, [hit]);
  }
  return [...groups].map(([key, list]) => ({ key, hits: list }));
}

/** Longest hit text shown; the pane shows the rest. */
const MAX_HIT_CHARS = 400;

function Highlighted({ text, matches }: { text: string; matches: [number, number][] }) {
  const shown = text.length > MAX_HIT_CHARS ? text.slice(0, MAX_HIT_CHARS) : text;
  const parts: React.ReactNode[] = [];
  let at = 0;
  for (const [start, end] of matches) {
    if (start >= shown.length || start < at) continue;
    parts.push(shown.slice(at, start), <mark key={start}>{shown.slice(start, Math.min(end, shown.length))}</mark>);
    at = Math.min(end, shown.length);
  }
  parts.push(shown.slice(at));
  return <>{parts}</>;
}

function Histogram({ buckets, bucketMs }: { buckets: HistogramBucket[]; bucketMs: number }) {
  if (buckets.length === 0) return null;
  const max = Math.max(...buckets.map((b) => b.count), 1);
  const width = 100 / buckets.length;
  return (
    <figure className="histogram" aria-label="Hits over time">
      <svg viewBox="0 0 100 32" preserveAspectRatio="none" role="img">
        {buckets.map((b, i) => {
          const h = (b.count / max) * 30;
          return (
            <rect key={b.start} x={i * width + width * 0.1} width={width * 0.8} y={32 - h} height={h} className="bar">
              <title>{`${formatTime(b.start)}: ${b.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption>
        <span>{formatTime(buckets[0].start)}</span>
        <span className="muted">{formatSpan(bucketMs)} per bar</span>
        <span>{formatTime(new Date(Date.parse(buckets.at(-1)!.start) + bucketMs).toISOString())}</span>
      </figcaption>
    </figure>
  );
}

function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
