import { describe, expect, it } from 'vitest';
import type { DataHost } from '../../protocol/messages/data.ts';
import { MasterCore } from './master-core.ts';
import { endPart, hello, T0 } from './testkit.ts';
import type { CommandEntry, Effect, MasterRecord } from './types.ts';

/**
 * What each message the core sends names as its backing (`after`): the shell sends it only once
 * those records are durable, and no longer waits for the rest of the step (effects-runner.ts).
 */

const cmd = (id: string, timeoutS = 300): CommandEntry => ({
  id,
  command: `-sT ${id}`,
  args: ['-sT', '127.0.0.1'],
  timeoutS,
});
const hostPart = (job: string, seq: number): DataHost => ({
  kind: 'DATA',
  worker: 'w1',
  job,
  attempt: 1,
  seq,
  part: 'host',
  host: { ports: [] } as unknown as DataHost['host'],
});

/** Each message of a step with what it waits for, records shown by their place in the step. */
function backing(fx: Effect[]): [string, string | number[]][] {
  const records = fx.flatMap((e) => (e.type === 'persist' ? [e.record] : []));
  const place = (r: MasterRecord) => {
    const i = fx.findIndex((e) => e.type === 'persist' && e.record === r);
    expect(i, 'a named record is persisted earlier in the step').toBeGreaterThanOrEqual(0);
    return records.indexOf(r);
  };
  return fx.flatMap((e) => {
    if (e.type !== 'publish') return [];
    const m = e.out.message;
    const name = `${m.kind}${'job' in m ? ` ${m.job}` : ''}`;
    const i = fx.indexOf(e);
    if (!('job' in e.after)) {
      for (const r of e.after)
        expect(fx.findIndex((x) => x.type === 'persist' && x.record === r)).toBeLessThan(i);
    }
    return [[name, 'job' in e.after ? `job ${e.after.job}` : e.after.map(place)]];
  });
}

const recordsOf = (fx: Effect[]) =>
  fx.flatMap((e) => (e.type === 'persist' ? [`${e.record.t}`] : []));

describe('what each message waits for', () => {
  it("a JOB waits for its own assign, not for the previous job's ended record or status", () => {
    const core = new MasterCore();
    core.commands([cmd('j1'), cmd('j2')], T0);
    core.clHello(hello('w1'), T0);
    const fx = core.data(endPart('w1', 'j1', 1, 0), T0 + 10);
    expect(recordsOf(fx)).toEqual(['end', 'status', 'assign']);
    expect(backing(fx)).toEqual([
      ['DATA_ACK j1', [0]],
      ['JOB j2', [2]],
    ]);
  });

  it('a stored part is acknowledged after its own record; a duplicate or stale answer after the job’s records', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    expect(backing(core.data(hostPart('j1', 0), T0 + 1))).toEqual([['DATA_ACK j1', [0]]]);
    expect(backing(core.data(hostPart('j1', 0), T0 + 2))).toEqual([['DATA_ACK j1', 'job j1']]);
    core.data(endPart('w1', 'j1', 1, 1), T0 + 3);
    // The job is done: its status may still be on its way to the disk.
    expect(backing(core.data(endPart('w1', 'j1', 1, 1), T0 + 4))).toEqual([
      ['DATA_ACK j1', 'job j1'],
    ]);
    expect(backing(core.data(hostPart('gone', 0), T0 + 5))).toEqual([
      ['DATA_ACK gone', 'job gone'],
    ]);
  });

  it('a job done cancels its other attempts once its status is recorded', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    core.clHello(hello('w2'), T0);
    core.clBye({ kind: 'CL_BYE', worker: 'w1' }, T0 + 100);
    const fx = core.data(endPart('w1', 'j1', 1, 0), T0 + 200);
    expect(recordsOf(fx)).toEqual(['end', 'status']);
    expect(backing(fx)).toEqual([
      ['DATA_ACK j1', [0]],
      ['CANCEL j1', [1]],
    ]);
  });

  it('a deadline CANCEL waits for its cutoff; S_HELLO waits for nothing', () => {
    const core = new MasterCore({ deadlineGraceMs: 0 });
    core.commands([cmd('j1', 1)], T0);
    core.clHello(hello('w1'), T0);
    const fx = core.helloRound(T0 + 5000);
    expect(recordsOf(fx)).toEqual(['cutoff', 'assign']);
    expect(backing(fx)).toEqual([
      ['CANCEL j1', [0]],
      ['S_HELLO', []],
      ['JOB j1', [1]],
    ]);
  });

  it('a CANCEL for an attempt of a finished job waits for the job’s records', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    core.data(endPart('w1', 'j1', 1, 0), T0 + 10);
    const fx = core.clHello(hello('w2', { running: [{ job: 'j1', attempt: 1 }] }), T0 + 20);
    expect(backing(fx)).toEqual([['CANCEL j1', 'job j1']]);
  });
});
