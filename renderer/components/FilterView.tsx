/**
 * The filtered line view of one agent: the entries that match a type, a minimum level or a regex,
 * read from the log by the backend (`agent:tail`). It refreshes as new entries arrive. Clearing
 * the filter returns to the terminal, which kept streaming underneath.
 */
import { useEffect, useRef, useState } from 'react';
import stripAnsi from 'strip-ansi';
import { ENTRY_TYPES, LEVELS, entryLevel, type EntryType, type Level, type LogEntry } from '../../shared/entry.js';
import { invoke } from '../bridge.js';
import { onAgentActivity } from '../store/activity.js';
import type { PaneFilter, PaneModel } from '../store/appStore.js';
import { appStore } from '../store/useApp.js';
import { formatTime } from './format.js';

/** Lines the filtered view shows: the most recent matches. */
const FILTER_LINES = 2000;
/** Re-query at most this often while the agent is writing. */
const REFRESH_MS = 400;
/** Wait for the user to stop typing a regex before asking the backend. */
const TYPING_DEBOUNCE_MS = 200;

export function FilterView({ pane }: { pane: PaneModel }) {
  const filter = pane.filter!;
  const [entries, setEntries] = useState<LogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [grep, setGrep] = useState(filter.grep);
  const listRef = useRef<HTMLDivElement>(null);
  const stickToEnd = useRef(true);
  const { key, agent } = pane;
  const update = (patch: Partial<PaneFilter>) => appStore.getState().setFilter(key, { ...filter, ...patch });

  useEffect(() => {
    const timer = setTimeout(() => grep !== filter.grep && update({ grep }), TYPING_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  });

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let running = false;
    const load = async () => {
      if (running) return;
      running = true;
      try {
        const result = await invoke('agent:tail', {
          ...agent,
          lines: FILTER_LINES,
          format: 'text',
          ...(filter.types.length > 0 ? { types: filter.types } : {}),
          ...(filter.minLevel ? { minLevel: filter.minLevel } : {}),
          ...(filter.grep !== '' ? { grep: filter.grep } : {}),
        });
        if (!cancelled) {
          setEntries(result.entries);
          setError(null);
        }
      } catch (err) {
        if (!cancelled) setError((err as Error).message);
      } finally {
        running = false;
      }
    };
    void load();
    const stop = onAgentActivity(key, () => {
      if (timer === null) timer = setTimeout(() => ((timer = null), void load()), REFRESH_MS);
    });
    return () => {
      cancelled = true;
      stop();
      if (timer !== null) clearTimeout(timer);
    };
  }, [key, agent, filter.types, filter.minLevel, filter.grep]);

  useEffect(() => {
    const list = listRef.current;
    if (list && stickToEnd.current) list.scrollTop = list.scrollHeight;
  }, [entries]);

  const toggleType = (type: EntryType) =>
    update({ types: filter.types.includes(type) ? filter.types.filter((t) => t !== type) : [...filter.types, type] });

  return (
    <div className="filter-view">
      <div className="filter-bar" role="toolbar" aria-label="Filter">
        <span className="filter-label">Type</span>
        {ENTRY_TYPES.map((type) => (
          <button key={type} className={`chip chip-${type}${filter.types.includes(type) ? ' is-on' : ''}`} aria-pressed={filter.types.includes(type)} onClick={() => toggleType(type)}>
            {type}
          </button>
        ))}
        <span className="filter-label">Level ≥</span>
        <select aria-label="Minimum level" value={filter.minLevel ?? ''} onChange={(e) => update({ minLevel: (e.target.value || null) as Level | null })}>
          <option value="">any</option>
          {LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
        <input className="filter-grep" aria-label="Filter regex" placeholder="regex" spellCheck={false} value={grep} onChange={(e) => setGrep(e.target.value)} />
        <span className="filter-count">{entries === null ? '…' : `${entries.length}${entries.length === FILTER_LINES ? '+' : ''} lines`}</span>
        <button className="btn btn-small" title="Back to the terminal (Escape)" onClick={() => appStore.getState().setFilter(key, null)}>
          Clear filter
        </button>
      </div>
      {error && <div className="filter-error">{error}</div>}
      <div
        className="filter-lines"
        ref={listRef}
        role="log"
        aria-label={`Filtered lines of ${agent.agentId}`}
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        }}
      >
        {entries?.length === 0 && <div className="muted pad">No entries match this filter.</div>}
        {entries?.map((entry) => {
          const level = entryLevel(entry);
          return (
            <div
              key={entry.sequence}
              className={`line line-${entry.type} level-${level} opens-replay`}
              data-type={entry.type}
              data-level={level}
              data-sequence={entry.sequence}
              title="Open the replay at this moment"
              onClick={() => appStore.getState().openReplay(key, { seq: entry.sequence })}
            >
              <span className="line-time">{formatTime(entry.timestamp)}</span>
              <span className={`line-type type-${entry.type}`}>{entry.type}</span>
              <span className="line-text">{stripAnsi(entry.content) || (entry.metadata?.event ? `[${String(entry.metadata.event)}]` : '')}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
