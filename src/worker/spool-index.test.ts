import { describe, expect, it } from 'vitest';
import { SpoolIndex } from './spool-index.ts';

const at = (i: SpoolIndex, seq: number, job = 'j1') => i.get(job, 1, seq)?.offset;

describe('spool index', () => {
  it('lists live parts in file order across attempts, and a repeated put at its new place', () => {
    const i = new SpoolIndex();
    i.set({ job: 'j1', attempt: 1, seq: 0, offset: 0, bytes: 10, put: 0 }, true);
    i.set({ job: 'j2', attempt: 1, seq: 0, offset: 10, bytes: 20, put: 1 }, true);
    i.set({ job: 'j1', attempt: 1, seq: 1, offset: 30, bytes: 10, put: 2 }, false);
    expect(i.set({ job: 'j1', attempt: 1, seq: 0, offset: 40, bytes: 12, put: 3 }, true)).toBe(
      true,
    );
    expect(i.sorted().map((p) => `${p.job}#${p.seq}@${p.offset}`)).toEqual([
      'j2#0@10',
      'j1#1@30',
      'j1#0@40',
    ]);
    expect([i.size, i.durableCount, i.liveBytes]).toEqual([3, 2, 42]);
  });

  it('lands a put only if no later put or ack replaced it', () => {
    const i = new SpoolIndex();
    i.set({ job: 'j1', attempt: 1, seq: 0, offset: 0, bytes: 10, put: 0 }, false);
    i.set({ job: 'j1', attempt: 1, seq: 0, offset: 10, bytes: 10, put: 1 }, false);
    i.land('j1', 1, 0, 0);
    expect(i.get('j1', 1, 0)?.durable).toBe(false);
    i.land('j1', 1, 0, 1);
    expect(i.get('j1', 1, 0)?.durable).toBe(true);
    expect(i.delete('j1', 1, 0)).toBe(true);
    i.land('j1', 1, 0, 1);
    expect([i.size, i.durableCount, i.get('j1', 1, 0)]).toEqual([0, 0, null]);
  });

  it('moves parts to where a compaction copied them', () => {
    const i = new SpoolIndex();
    // File: seq 0 @0 (10 bytes), an acked line @10, seq 2 @30 (5), then seq 3 @35 appended later.
    i.set({ job: 'j1', attempt: 1, seq: 0, offset: 0, bytes: 10, put: 0 }, true);
    i.set({ job: 'j1', attempt: 1, seq: 2, offset: 30, bytes: 5, put: 1 }, true);
    const copied = i.lines();
    expect([...copied.offsets]).toEqual([0, 30]);
    i.set({ job: 'j1', attempt: 1, seq: 3, offset: 35, bytes: 7, put: 2 }, false);
    i.move(copied, 35, 15);
    expect([at(i, 0), at(i, 2), at(i, 3)]).toEqual([0, 10, 15]);
  });
});
