// Canonical-JSON google.protobuf.Duration ("1.500s") to milliseconds.

/** Parsed durations: configuration holds few distinct ones and routes read them per request. */
const parsed = new Map<string, number | undefined>();
const MAX_CACHED = 1024;

/** Milliseconds of a canonical JSON Duration, or undefined when absent or malformed. */
export function durationMs(d: string | undefined | null): number | undefined {
  if (typeof d !== 'string') return undefined;
  if (parsed.has(d)) return parsed.get(d);
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
  const ms = m?.[1] ? Math.round(Number(m[1]) * 1000) : undefined;
  if (parsed.size < MAX_CACHED) parsed.set(d, ms);
  return ms;
}

/** A canonical JSON Duration for a number of milliseconds. */
export function msToDuration(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}
