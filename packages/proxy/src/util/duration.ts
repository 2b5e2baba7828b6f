// Canonical-JSON google.protobuf.Duration ("1.500s") to milliseconds.

/** Milliseconds of a canonical JSON Duration, or undefined when absent or malformed. */
export function durationMs(d: string | undefined | null): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
  if (!m?.[1]) return undefined;
  return Math.round(Number(m[1]) * 1000);
}

/** A canonical JSON Duration for a number of milliseconds. */
export function msToDuration(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}
