/**
 * Time bounds for searches: an ISO 8601 time, a date, or a duration before now (`15m`, `2h`, `3d`).
 */
import { parseTimestamp } from '../../../shared/entry.js';

/** A time bound the user can fix: the message names the value and the accepted forms. */
export class TimeBoundError extends Error {
  override name = 'TimeBoundError';
}

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MICROS: Record<string, number> = {
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
  w: 604_800_000_000,
};
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Microseconds since the epoch for `value`: `2026-01-31T14:00:00Z` (naive times are local),
 * `2026-01-31` (local midnight), or a duration before `nowMicros` such as `90s`, `15m`, `2h`, `3d`, `1w`.
 */
export function parseTimeBound(value: string, nowMicros: number): number {
  const text = value.trim();
  const d = DURATION_PATTERN.exec(text);
  if (d) return Math.round(nowMicros - Number(d[1]) * UNIT_MICROS[d[2]]);
  const micros = parseTimestamp(DATE_ONLY.test(text) ? `${text}T00:00:00` : text);
  if (Number.isNaN(micros)) {
    throw new TimeBoundError(
      `invalid time ${JSON.stringify(value)}: use an ISO 8601 time (2026-01-31T14:00:00Z), a date (2026-01-31) or a duration before now (30s, 15m, 2h, 3d, 1w)`,
    );
  }
  return micros;
}
