/** Attention facts read back from the store (store/agents.ts), which any shipping machine may have written. */
import { describe, expect, it } from 'vitest';
import { NO_FACTS } from '../attention/attention.js';
import { attentionFacts } from './agents.js';

describe('attention facts from the store', () => {
  it('takes facts as an index writes them', () => {
    const facts = { ...NO_FACTS, lastOutput: 5, activeSince: 1, prompt: { rule: 'yes-no', text: 'Go on? [y/N]', since: 4 }, notification: { kind: 'osc9' as const, text: 'done', at: 3 } };
    expect(attentionFacts(facts)).toEqual(facts);
    expect(attentionFacts(JSON.parse(JSON.stringify(NO_FACTS)))).toEqual(NO_FACTS);
  });

  it('refuses anything else, so that one machine cannot break the listing', () => {
    for (const bad of [null, 'waiting', 7, [], { ...NO_FACTS, lastOutput: 'soon' }, { ...NO_FACTS, prompt: { rule: 1, text: 'x', since: 1 } }, { ...NO_FACTS, notification: { kind: 'siren', text: '', at: 1 } }, { ...NO_FACTS, cursorText: 3 }]) {
      expect(attentionFacts(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
