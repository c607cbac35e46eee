import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../nmap/result.ts';
import type { Data } from '../../protocol/messages/data.ts';
import { completed, T0, testJob as job } from './testkit.ts';
import { WorkerCore } from './worker-core.ts';
import type { WorkerEffect } from './types.ts';

const opts = { id: 'w1', nmapVersion: '7.93', slots: 1, resendAfterMs: 10_000 };
const host = { address: '127.0.0.1' } as HostResult;
const outcome = completed(1);
const of = <T extends WorkerEffect['type']>(fx: WorkerEffect[], type: T) =>
  fx.filter((e): e is Extract<WorkerEffect, { type: T }> => e.type === type);

describe('worker core', () => {
  it('announces itself with what it runs and what it holds', () => {
    const core = new WorkerCore({ ...opts, slots: 2 });
    core.job(job('j1'), T0);
    core.hostFound('j1', 1, host);
    core.job(job('j2'), T0);
    core.runEnded('j2', 1, outcome);
    const [hello] = of(core.sHello(T0 + 1), 'hello');
    expect(hello?.message).toEqual({
      kind: 'CL_HELLO',
      worker: 'w1',
      nmap: '7.93',
      slots: 2,
      running: [{ job: 'j1', attempt: 1 }],
      held: [
        { job: 'j1', attempt: 1 },
        { job: 'j2', attempt: 1 },
      ],
    });
  });

  it('runs a JOB only if its stamp is above the last one accepted, and has the stamp kept', () => {
    const core = new WorkerCore({ ...opts, slots: 2, acceptedStamp: 500 });
    const stale = core.job(job('j0', 1, 500), T0);
    expect(of(stale, 'run')).toEqual([]);
    expect(of(stale, 'log')[0]?.data).toMatchObject({ code: 'SCANMESH_STALE_JOB', stamp: 500 });
    const fresh = core.job(job('j1', 1, 501), T0);
    expect(fresh.map((e) => e.type)).toEqual(['stamp', 'log', 'run']);
    expect(of(fresh, 'stamp')[0]?.stamp).toBe(501);
    // A captured earlier JOB, though it names an attempt this worker never saw:
    expect(of(core.job(job('j2', 1, 501), T0), 'run')).toEqual([]);
    expect(of(core.job(job('j3', 1, 400), T0), 'run')).toEqual([]);
    // Refused for want of a slot, a fresh JOB still moves the mark: it must not run later either.
    expect(of(core.job(job('j4', 1, 600), T0), 'run')).toHaveLength(1);
    const busy = core.job(job('j5', 1, 700), T0);
    expect(busy.map((e) => e.type)).toEqual(['stamp', 'log']);
    core.runEnded('j1', 1, outcome);
    expect(of(core.job(job('j5', 1, 700), T0), 'run')).toEqual([]);
  });

  it('spools each DATA part before sending it, hosts counting up and the end taking the last seq', () => {
    const core = new WorkerCore(opts);
    expect(of(core.job(job(), T0), 'run')).toHaveLength(1);
    const fx = [
      ...core.hostFound('j1', 1, host),
      ...core.hostFound('j1', 1, host),
      ...core.runEnded('j1', 1, outcome),
    ];
    const sequence = fx.filter((e) => e.type === 'spool' || e.type === 'send');
    expect(sequence.map((e) => [e.type, (e as { message: Data }).message.seq])).toEqual([
      ['spool', 0],
      ['send', 0],
      ['spool', 1],
      ['send', 1],
      ['spool', 2],
      ['send', 2],
    ]);
    const [end] = of(fx, 'send').slice(-1);
    expect(end?.message).toMatchObject({ part: 'end', status: 'completed', seq: 2 });
  });

  it('forgets a part only on its DATA_ACK, and resends the rest on reconnect', () => {
    const core = new WorkerCore(opts);
    core.job(job(), T0);
    core.hostFound('j1', 1, host);
    core.runEnded('j1', 1, outcome);
    const ack = core.ack({ kind: 'DATA_ACK', job: 'j1', attempt: 1, seq: 0, outcome: 'stored' });
    expect(ack).toEqual([{ type: 'forget', job: 'j1', attempt: 1, seq: 0 }]);
    expect(
      core.ack({ kind: 'DATA_ACK', job: 'j1', attempt: 1, seq: 0, outcome: 'stored' }),
    ).toEqual([]);
    const resent = of(core.connected(T0 + 5), 'sendSpooled').map((e) => e.seq);
    expect(resent).toEqual([1]);
  });

  it('resends on S_HELLO only what has waited longer than resendAfterMs', () => {
    const core = new WorkerCore(opts);
    core.job(job(), T0);
    core.runEnded('j1', 1, outcome);
    expect(of(core.sHello(T0 + 10_500), 'sendSpooled')).toEqual([]);
    expect(of(core.sHello(T0 + 11_001), 'sendSpooled')).toHaveLength(1);
  });

  it('restores spooled parts from disk and sends them on connect, read back from the spool', () => {
    const spooled = [{ job: 'j9', attempt: 2, seq: 0, bytes: 900 }];
    const core = new WorkerCore(opts, spooled);
    const fx = core.connected(T0);
    expect(of(fx, 'hello')[0]?.message.held).toEqual([{ job: 'j9', attempt: 2 }]);
    expect(of(fx, 'sendSpooled')).toEqual([{ type: 'sendSpooled', job: 'j9', attempt: 2, seq: 0 }]);
    expect(of(fx, 'send')).toEqual([]);
  });

  it('refuses a job beyond its slots and ignores a job it already ran', () => {
    const core = new WorkerCore(opts);
    core.job(job('j1'), T0);
    expect(of(core.job(job('j2'), T0), 'run')).toEqual([]);
    core.runEnded('j1', 1, outcome);
    core.ack({ kind: 'DATA_ACK', job: 'j1', attempt: 1, seq: 0, outcome: 'stored' });
    expect(of(core.job(job('j1'), T0), 'run')).toEqual([]);
    expect(of(core.job(job('j1', 2), T0), 'run')).toHaveLength(1);
  });

  it('CANCEL aborts the run and drops its unsent results', () => {
    const core = new WorkerCore(opts);
    core.job(job(), T0);
    core.hostFound('j1', 1, host);
    const fx = core.cancel({ kind: 'CANCEL', job: 'j1', attempt: 1, reason: 'job done' });
    expect(of(fx, 'abort')).toEqual([{ type: 'abort', job: 'j1', attempt: 1, reason: 'job done' }]);
    expect(of(fx, 'forget')).toEqual([{ type: 'forget', job: 'j1', attempt: 1, seq: 0 }]);
    expect(core.runEnded('j1', 1, outcome)).toEqual([]);
    expect(core.pending).toBe(0);
  });
});
