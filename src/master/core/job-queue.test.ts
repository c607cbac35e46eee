import { describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.ts';

const drain = (q: JobQueue) => {
  const out: string[] = [];
  for (let id = q.shift(); id !== undefined; id = q.shift()) out.push(id);
  return out;
};

describe('JobQueue', () => {
  it('hands out ids put at the head first (latest first), then the tail in order', () => {
    const q = new JobQueue();
    q.push('a');
    q.push('b');
    q.unshift('x');
    q.unshift('y');
    q.push('c');
    expect(q.ids()).toEqual(['y', 'x', 'a', 'b', 'c']);
    expect(q.size).toBe(5);
    expect(drain(q)).toEqual(['y', 'x', 'a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('skips withdrawn ids, and an id put back takes its new place, not its old one', () => {
    const q = new JobQueue();
    for (const id of ['a', 'b', 'c', 'd']) q.push(id);
    q.delete('b');
    q.delete('a');
    q.push('a');
    q.unshift('d');
    expect(q.has('b')).toBe(false);
    expect(q.ids()).toEqual(['d', 'c', 'a']);
    expect(q.size).toBe(3);
    expect(drain(q)).toEqual(['d', 'c', 'a']);
  });

  it('keeps its order over many more ids than it compacts at', () => {
    const q = new JobQueue();
    const ids = Array.from({ length: 5000 }, (_, i) => `j${i}`);
    q.reset(ids.slice(0, 3000));
    const first = Array.from({ length: 2500 }, () => q.shift());
    for (const id of ids.slice(3000)) q.push(id);
    q.unshift('j0');
    expect(first).toEqual(ids.slice(0, 2500));
    expect(q.ids()).toEqual(['j0', ...ids.slice(2500)]);
    expect(drain(q)).toEqual(['j0', ...ids.slice(2500)]);
  });
});
