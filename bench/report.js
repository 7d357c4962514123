// Shared output format for benchmarks: one row per figure, beside its baseline and goal.

/**
 * Prints one figure.
 * @param {string} what       e.g. "capture throughput"
 * @param {string} value      e.g. "33.1 MB/s"
 * @param {string} baseline   e.g. "cat: 35.0 MB/s" ("" when the figure has none)
 * @param {string} goal       e.g. ">= 90% of baseline" 
 * @param {boolean|null} met  whether the goal is met (null: no goal)
 */
export function row(what, value, baseline = '', goal = '', met = null) {
  const mark = met === null ? '' : met ? 'MET ' : 'MISS';
  console.log(`${what.padEnd(44)} ${value.padStart(16)}   ${baseline.padEnd(30)} ${goal.padEnd(24)} ${mark}`);
}

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function header() {
  console.log(`${'figure'.padEnd(44)} ${'value'.padStart(16)}   ${'baseline (same run)'.padEnd(30)} ${'goal'.padEnd(24)}`);
}
