/** How an export reports what it did, on stderr and inside the exported files. */

/** `3 secrets redacted (aws-access-key 2, jwt 1)`, `no secrets found`, or `redaction off`. */
export function describeRedactions(redactions: Record<string, number> | null): string {
  if (redactions === null) return 'redaction off';
  const kinds = Object.entries(redactions).filter(([, n]) => n > 0);
  if (kinds.length === 0) return 'no secrets found';
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  return `${total} secret${total === 1 ? '' : 's'} redacted (${kinds.map(([kind, n]) => `${kind} ${n}`).join(', ')})`;
}

/** Bytes for people: `512 B`, `3.4 KB`, `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
