// Durations as Istio accepts them: Go-style ("1h2m", "1.5s", "100ms", "250us") and
// proto JSON ("1.500s").

const units: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
};
const part = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;

/** Milliseconds in a duration string, or undefined when it is not one. */
export function tryParseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const at = part.lastIndex;
    const m = part.exec(text);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * (units[m[2] as string] as number);
  }
  return total;
}

/** Milliseconds in a duration string; throws with the reason when malformed. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined)
    throw new Error(`malformed duration ${JSON.stringify(text)} (expected e.g. "1.5s", "100ms", "3m")`);
  return ms;
}

/** The proto3 JSON form of a duration ("1.500s"), as xDS wants it. */
export function durationToProtoJson(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds.toString() : seconds.toFixed(9).replace(/0+$/, '')}s`;
}
