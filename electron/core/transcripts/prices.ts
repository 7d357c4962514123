/**
 * What tokens cost (SPEC §14): a price table shipped with Loupe, in US dollars per million tokens.
 *
 * Sources, as published on these pages when the table was written (PRICES_AS_OF); list prices
 * for the standard tier, without batch discounts or long-context surcharges:
 * - Anthropic: https://www.anthropic.com/pricing (cache write = the 5-minute cache write price)
 * - OpenAI: https://openai.com/api/pricing (cache read = the cached input price)
 *
 * A model that is not in the table has no price: its run shows tokens with `costUsd: null`,
 * never a guess. A model name matches an entry exactly or with a date suffix
 * (`claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`).
 */
import type { TokenCounts } from './session.js';

export const PRICES_AS_OF = '2025-11-20';

export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const claude = (input: number, output: number): ModelPrice => ({ input, output, cacheRead: input / 10, cacheWrite: input * 1.25 });
const openai = (input: number, cachedInput: number, output: number): ModelPrice => ({ input, output, cacheRead: cachedInput, cacheWrite: input });

export const PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-4-5': claude(5, 25),
  'claude-opus-4-1': claude(15, 75),
  'claude-opus-4': claude(15, 75),
  'claude-sonnet-4-5': claude(3, 15),
  'claude-sonnet-4': claude(3, 15),
  'claude-3-7-sonnet': claude(3, 15),
  'claude-3-5-sonnet': claude(3, 15),
  'claude-haiku-4-5': claude(1, 5),
  'claude-3-5-haiku': claude(0.8, 4),
  'claude-3-haiku': claude(0.25, 1.25),
  'gpt-5.1': openai(1.25, 0.125, 10),
  'gpt-5.1-codex': openai(1.25, 0.125, 10),
  'gpt-5': openai(1.25, 0.125, 10),
  'gpt-5-codex': openai(1.25, 0.125, 10),
  'gpt-5-mini': openai(0.25, 0.025, 2),
  'gpt-5-nano': openai(0.05, 0.005, 0.4),
  'gpt-4.1': openai(2, 0.5, 8),
  o3: openai(2, 0.5, 8),
  'o4-mini': openai(1.1, 0.275, 4.4),
  'codex-mini-latest': openai(1.5, 0.375, 6),
};

/** A date suffix a model name may carry after its table name: `-20250929` or `-2025-08-07`. */
const DATE_SUFFIX = /-(\d{8}|\d{4}-\d{2}-\d{2})$/;

/** The price of `model`, or null when the table does not have it. */
export function priceOf(model: string | null, table: Readonly<Record<string, ModelPrice>> = PRICES): ModelPrice | null {
  if (model === null) return null;
  return table[model] ?? table[model.replace(DATE_SUFFIX, '')] ?? null;
}

/**
 * Tokens one model used, and what they cost when the source states it (stream-json's
 * `total_cost_usd`): a number when every usage of the model stated its cost, null when one did
 * not (then all its tokens are priced from the table).
 */
export interface ModelUsage extends TokenCounts {
  costUsd?: number | null;
}

/** Tokens used per model. */
export type UsageByModel = Map<string | null, ModelUsage>;

/**
 * What the tokens cost in US dollars; null when a model that used tokens has no price.
 * A cost the source stated is taken as it is. (Models that used no tokens, like Claude Code's
 * `<synthetic>` messages, cost nothing.)
 */
export function costOf(usage: UsageByModel, table: Readonly<Record<string, ModelPrice>> = PRICES): number | null {
  let total = 0;
  for (const [model, t] of usage) {
    if (typeof t.costUsd === 'number') {
      total += t.costUsd;
      continue;
    }
    if (t.input + t.output + t.cacheRead + t.cacheWrite === 0) continue;
    const price = priceOf(model, table);
    if (price === null) return null;
    total += (t.input * price.input + t.output * price.output + t.cacheRead * price.cacheRead + t.cacheWrite * price.cacheWrite) / 1e6;
  }
  return total;
}
