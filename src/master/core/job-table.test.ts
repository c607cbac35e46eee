import { describe, expect, it } from 'vitest';
import { MasterCore } from './master-core.ts';
import { endPart, hello, T0 } from './testkit.ts';
import type { CommandEntry, MasterRecord } from './types.ts';

const cmd = (id: string): CommandEntry => ({ id, command: id, args: ['127.0.0.1'], timeoutS: 10 });

/** The counts the hard way. */
function scanned(core: MasterCore) {
  const c = { pending: 0, running: 0, done: 0, failed: 0, removed: 0 };
  for (const job of core.state.jobs.values()) c[job.status] += 1;
  return c;
}

describe('job counts by status', () => {
  it('follow every change of status, live and on replay', () => {
    const core = new MasterCore({ maxAttempts: 1, deadlineGraceMs: 0 });
    const journal: MasterRecord[] = [];
    const seen: ReturnType<typeof scanned>[] = [];
    const step = (fx: ReturnType<MasterCore['commands']>) => {
      for (const e of fx) if (e.type === 'persist') journal.push(e.record);
      expect(core.state.counts()).toEqual(scanned(core));
      seen.push(scanned(core));
    };
    step(core.commands(['a', 'b', 'c', 'd', 'e'].map(cmd), T0));
    step(core.clHello(hello('w1'), T0));
    step(core.clHello(hello('w2'), T0));
    step(core.data(endPart('w1', 'a', 1, 0, 'completed'), T0 + 1));
    step(core.data(endPart('w2', 'b', 1, 0, 'failed'), T0 + 2));
    step(core.commands(['a', 'b', 'c'].map(cmd), T0 + 4));
    step(core.clBye({ kind: 'CL_BYE', worker: 'w1' }, T0 + 5));
    step(core.clHello(hello('w3', { running: [{ job: 'c', attempt: 1 }] }), T0 + 6));
    step(core.helloRound(T0 + 60_000));
    // Every status was reached at least once on the way.
    for (const s of ['pending', 'running', 'done', 'failed', 'removed'] as const) {
      expect(seen.some((c) => c[s] > 0)).toBe(true);
    }
    const again = new MasterCore();
    again.restore(journal, T0 + 70_000);
    expect(again.state.counts()).toEqual(scanned(again));
    expect(again.state.counts()).toEqual(scanned(core));
  });
});
