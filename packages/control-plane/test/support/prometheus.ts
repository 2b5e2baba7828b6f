// Reading a proxy's Prometheus text in tests.

/** The samples of one metric whose labels include all of `labels`, as lines. */
export function metricLines(text: string, name: string, labels: Record<string, string> = {}): string[] {
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
}

/** The sum of those samples' values. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return metricLines(text, name, labels).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}
