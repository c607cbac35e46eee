import { describe, expect, it } from 'vitest';
import { attemptTimestampNs, unixMsToNs } from './timestamp.ts';

describe('attemptTimestampNs', () => {
  it('puts the start second, jobSeq and attempt in their own digits', () => {
    expect(attemptTimestampNs(1_700_000_000, 123_456, 7)).toBe('1700000000123456007');
  });

  it('keeps every digit beyond 2^53 (a JS number would round the last ones)', () => {
    const ns = attemptTimestampNs(1_700_000_000, 1, 1);
    expect(ns).toBe('1700000000000001001');
    expect(String(Number(ns))).not.toBe(ns);
  });

  it('wraps jobSeq at a million and attempt at a thousand, staying inside the second', () => {
    expect(attemptTimestampNs(5, 1_000_001, 1_001)).toBe('5000001001');
    expect(attemptTimestampNs(5, 999_999, 999)).toBe('5999999999');
  });

  it('differs for two jobs, or two attempts of one job, started in the same second', () => {
    const a = attemptTimestampNs(1_700_000_000, 41, 1);
    const b = attemptTimestampNs(1_700_000_000, 42, 1);
    const c = attemptTimestampNs(1_700_000_000, 42, 2);
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('is the same for the same attempt, so a rewrite overwrites instead of adding points', () => {
    expect(attemptTimestampNs(1_700_000_000, 42, 3)).toBe(attemptTimestampNs(1_700_000_000, 42, 3));
  });

  it.each([
    [-1, 0, 1],
    [1.5, 0, 1],
    [1, -1, 1],
    [1, 0, Number.NaN],
  ])('refuses startUnixS=%s jobSeq=%s attempt=%s', (s, seq, attempt) => {
    expect(() => attemptTimestampNs(s, seq, attempt)).toThrow(RangeError);
  });
});

describe('unixMsToNs', () => {
  it('scales milliseconds to nanoseconds exactly', () => {
    expect(unixMsToNs(1_700_000_000_123)).toBe('1700000000123000000');
    expect(unixMsToNs(0)).toBe('0');
  });

  it('refuses fractions', () => {
    expect(() => unixMsToNs(1.5)).toThrow(RangeError);
  });
});
