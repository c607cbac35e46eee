import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../clock.ts';
import { DrainLoop } from './drain-loop.ts';

/** Timers the test fires by hand, recording the delays asked for. */
function manualClock() {
  const pending: { fn: () => void; ms: number }[] = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout: (fn, ms) => {
      const t = { fn, ms };
      pending.push(t);
      return { id: t } as TimerHandle;
    },
    setInterval: () => ({ id: null }),
    clear: (h) => {
      const i = pending.indexOf(h.id as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  const fire = async () => {
    pending.shift()?.fn();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { clock, pending, fire };
}

describe('DrainLoop', () => {
  it('backs off 10 → 20 → 40 → 40 ms on failures, and back to 10 once work moves', async () => {
    const t = manualClock();
    const outcomes = ['fail', 'fail', 'fail', 'fail', 'ok', 'fail'];
    const delays: number[] = [];
    const loop: DrainLoop = new DrainLoop({
      clock: t.clock,
      retryMinMs: 10,
      retryMaxMs: 40,
      drain: async () => {
        if (outcomes.shift() === 'fail') throw new Error('down');
        loop.progressed();
      },
      failed: () => delays.push(loop.retryLater()),
    });
    loop.kick();
    await new Promise((r) => setTimeout(r, 0));
    for (let i = 0; i < 4; i++) await t.fire();
    expect(t.pending).toEqual([]);
    loop.kick();
    await new Promise((r) => setTimeout(r, 0));
    expect(delays).toEqual([10, 20, 40, 40, 10]);
    expect(t.pending.map((p) => p.ms)).toEqual([10]);
  });

  it('runs one drain at a time, and stop waits for the one in hand and cancels the retry', async () => {
    const t = manualClock();
    let release: () => void = () => undefined;
    let drains = 0;
    const loop = new DrainLoop({
      clock: t.clock,
      retryMinMs: 10,
      retryMaxMs: 40,
      drain: () => {
        drains += 1;
        return new Promise<void>((r) => (release = r));
      },
      failed: () => undefined,
    });
    loop.kick();
    loop.kick();
    expect(drains).toBe(1);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(stopped).toBe(false);
    release();
    await stopping;
    loop.kick();
    expect(drains).toBe(1);
    expect(loop.retryLater()).toBe(10);
    expect(t.pending).toEqual([]);
  });
});
