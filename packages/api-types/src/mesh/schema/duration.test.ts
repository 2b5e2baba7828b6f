import { describe, expect, it } from 'vitest';
import { durationToProtoJson, parseDuration, tryParseDuration } from './duration.js';

describe('durations', () => {
  it.each([
    ['10s', 10_000],
    ['1.5s', 1500],
    ['100ms', 100],
    ['3m', 180_000],
    ['1h30m', 5_400_000],
    ['0', 0],
    ['0s', 0],
    ['250us', 0.25],
    ['.5s', 500],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', '10 s', 's', '1d', '-1s', '1.5.2s', '10sec'])('rejects %j', (text) =>
    expect(tryParseDuration(text)).toBeUndefined(),
  );

  it('formats proto JSON durations', () => {
    expect(durationToProtoJson(10_000)).toBe('10s');
    expect(durationToProtoJson(1500)).toBe('1.5s');
    expect(durationToProtoJson(0.25)).toBe('0.00025s');
  });
});
