/** Virtual time is an integer count of microseconds. Helpers keep the unit in the name. */
export const US_PER_MS = 1000;
export const US_PER_S = 1_000_000;

export const msToUs = (ms: number): number => Math.round(ms * US_PER_MS);
export const sToUs = (s: number): number => Math.round(s * US_PER_S);
export const usToMs = (us: number): number => us / US_PER_MS;

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

/** Parses '500ms', '10s', '10m', '1h', '250us' or a bare number of milliseconds; null when unparsable. */
export function parseDurationUs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)?\s*$/.exec(text);
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const us = Math.round(n * UNIT_US[unit]!);
  return Number.isFinite(us) ? us : null;
}

/** '1.234 s', '12.0 ms', '250 µs' — for human output only. */
export function formatUs(us: number): string {
  if (us >= US_PER_S) return `${(us / US_PER_S).toFixed(3)} s`;
  if (us >= US_PER_MS) return `${(us / US_PER_MS).toFixed(1)} ms`;
  return `${us} µs`;
}
