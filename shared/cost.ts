/** Tokens and cost as Loupe prints them, in the CLI and in the UI alike. */

export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export function totalTokens(t: TokenCounts): number {
  return t.input + t.output + t.cacheRead + t.cacheWrite;
}

/** `$0.42`, or `$0.0031` for costs under a cent; `unpriced` when a model has no price. */
export function formatUsd(usd: number | null): string {
  if (usd === null) return 'unpriced';
  return `$${usd.toFixed(usd !== 0 && usd < 0.01 ? 4 : 2)}`;
}
