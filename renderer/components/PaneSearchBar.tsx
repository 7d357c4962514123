/** The in-pane find bar: regex, case, whole word, next/previous, highlight all and "i of N". */
import { useEffect, useRef } from 'react';
import type { PaneModel } from '../store/appStore.js';
import { appStore } from '../store/useApp.js';
import { controllerFor } from '../terminal/paneRegistry.js';

export function PaneSearchBar({ pane }: { pane: PaneModel }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const { key, search } = pane;
  const s = appStore.getState;

  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  // Re-run the search whenever the term or an option changes; the addon highlights every match.
  useEffect(() => {
    const controller = controllerFor(key);
    if (!controller) return;
    if (search.term === '') controller.clearSearch();
    else controller.find(search, 'next');
  }, [key, search.term, search.regex, search.caseSensitive, search.wholeWord]);

  const find = (direction: 'next' | 'previous') => controllerFor(key)?.find(search, direction);
  const close = () => {
    controllerFor(key)?.clearSearch();
    s().closeSearch(key);
  };
  const toggle = (option: 'regex' | 'caseSensitive' | 'wholeWord') => s().updateSearch(key, { [option]: !search[option] });
  const status = search.term === '' ? '' : search.count === 0 ? 'No results' : search.index < 0 ? `${search.count}+ matches` : `${search.index + 1} of ${search.count}`;

  return (
    <div className="find-bar" role="search">
      <input
        ref={inputRef}
        className="find-input"
        aria-label="Find in pane"
        placeholder="Find"
        value={search.term}
        spellCheck={false}
        onChange={(e) => s().updateSearch(key, { term: e.target.value })}
      />
      <button className={`toggle${search.caseSensitive ? ' is-on' : ''}`} aria-pressed={search.caseSensitive} title="Match case" onClick={() => toggle('caseSensitive')}>
        Aa
      </button>
      <button className={`toggle${search.wholeWord ? ' is-on' : ''}`} aria-pressed={search.wholeWord} title="Whole word" onClick={() => toggle('wholeWord')}>
        <u>ab</u>
      </button>
      <button className={`toggle${search.regex ? ' is-on' : ''}`} aria-pressed={search.regex} title="Regular expression" onClick={() => toggle('regex')}>
        .*
      </button>
      <span className={`find-count${search.term !== '' && search.count === 0 ? ' is-none' : ''}`} aria-live="polite">
        {status}
      </span>
      <button className="icon-btn" title="Previous match (Shift+Enter)" aria-label="Previous match" onClick={() => find('previous')}>
        ↑
      </button>
      <button className="icon-btn" title="Next match (Enter)" aria-label="Next match" onClick={() => find('next')}>
        ↓
      </button>
      <button className="icon-btn" title="Close (Escape)" aria-label="Close find" onClick={close}>
        ✕
      </button>
    </div>
  );
}
