import { describe, expect, it } from 'vitest';
import { Backlog } from './backlog.ts';

const part = (seq: number, job = 'j1', attempt = 1) => ({ job, attempt, seq, bytes: 100 + seq });
const drain = (b: Backlog) => {
  const out: string[] = [];
  for (let p = b.shift(); p; p = b.shift()) out.push(`${p.job}#${p.seq}:${p.bytes}`);
  return out;
};

describe('send backlog', () => {
  it('gives parts back with their sizes, each attempt in seq order, oldest attempt first', () => {
    const b = new Backlog();
    [part(0), part(1), part(0, 'j2'), part(2)].forEach((p) => b.push(p));
    expect(b.size).toBe(4);
    expect(b.peek()).toEqual(part(0));
    expect(drain(b)).toEqual(['j1#0:100', 'j1#1:101', 'j1#2:102', 'j2#0:100']);
    expect(b.size).toBe(0);
    expect(b.peek()).toBeUndefined();
  });

  it('takes a part out of the middle of a run and keeps the rest in order', () => {
    const b = new Backlog();
    for (let seq = 0; seq < 6; seq++) b.push(part(seq));
    b.shift();
    expect(b.remove('j1', 1, 3)).toBe(true);
    expect(b.remove('j1', 1, 3)).toBe(false);
    expect(b.remove('j1', 1, 0)).toBe(false); // already left
    expect(b.remove('j1', 2, 4)).toBe(false);
    expect(b.remove('j1', 1, 5)).toBe(true);
    expect(b.remove('j1', 1, 1)).toBe(true);
    expect(b.size).toBe(2);
    expect(drain(b)).toEqual(['j1#2:102', 'j1#4:104']);
  });

  it('takes out a whole attempt and says which attempts wait', () => {
    const b = new Backlog();
    [part(0), part(0, 'j2'), part(1), part(2), part(1, 'j2')].forEach((p) => b.push(p));
    expect(b.holds('j2', 1)).toBe(true);
    expect([...b.attempts()].map((a) => a.job)).toEqual(['j1', 'j2']);
    expect(b.removeAttempt('j1', 1)).toEqual([0, 1, 2]);
    expect(b.holds('j1', 1)).toBe(false);
    expect(b.size).toBe(2);
    expect(drain(b)).toEqual(['j2#0:100', 'j2#1:101']);
  });

  it('attempts spooling side by side cost a run each, not one per part', () => {
    const b = new Backlog();
    for (let seq = 0; seq < 10_000; seq++) {
      b.push(part(seq, 'j1'));
      b.push(part(seq, 'j2'));
    }
    expect([...b.attempts()].map((a) => a.job)).toEqual(['j1', 'j2']);
    const out = drain(b);
    expect(out).toHaveLength(20_000);
    expect(out[9_999]).toBe('j1#9999:10099');
    expect(out[10_000]).toBe('j2#0:100');
  });
});
