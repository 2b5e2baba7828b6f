// What the demo measures in one step: requests, errors, the split by version and latency.

export class StepStats {
  readonly byVersion = new Map<string, number>();
  readonly latencies: number[] = [];
  requests = 0;
  /** Failures the step's configuration asks for (injected faults). */
  expectedErrors = 0;
  /** Any other failure: these make the demo fail. */
  unexpectedErrors = 0;
  readonly errorSamples: string[] = [];

  ok(version: string, ms: number): void {
    this.requests++;
    this.latencies.push(ms);
    this.byVersion.set(version, (this.byVersion.get(version) ?? 0) + 1);
  }

  failed(ms: number, expected: boolean, why: string): void {
    this.requests++;
    this.latencies.push(ms);
    if (expected) this.expectedErrors++;
    else {
      this.unexpectedErrors++;
      if (this.errorSamples.length < 5) this.errorSamples.push(why);
    }
  }

  /** Share of successful responses that came from a version, 0..1. */
  share(version: string): number {
    const ok = [...this.byVersion.values()].reduce((a, b) => a + b, 0);
    return ok === 0 ? 0 : (this.byVersion.get(version) ?? 0) / ok;
  }

  percentile(p: number): number {
    if (this.latencies.length === 0) return 0;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[
      Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
    ] as number;
  }
}
