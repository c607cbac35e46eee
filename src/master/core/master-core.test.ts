import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../nmap/result.ts';
import type { DataHost } from '../../protocol/messages/data.ts';
import { MasterCore } from './master-core.ts';
import { endPart, hello, T0 } from './testkit.ts';
import type { CommandEntry, Effect, MasterRecord } from './types.ts';

function cmd(id: string, timeoutS = 300): CommandEntry {
  return { id, command: `-sT -p 80 ${id}`, args: ['-sT', '-p', '80', '127.0.0.1'], timeoutS };
}

function host(address: string): HostResult {
  return {
    address,
    addresses: [{ addr: address, type: 'ipv4', vendor: '' }],
    hostnames: [],
    state: 'up',
    reason: 'localhost-response',
    latencyMs: 0.05,
    ports: [
      {
        protocol: 'tcp',
        port: 80,
        state: 'open',
        reason: 'syn-ack',
        service: 'http',
        product: '',
        version: '',
        extrainfo: '',
        cpe: [],
        scripts: [],
      },
    ],
    extraPorts: [],
    os: [],
    scripts: [],
    startTime: 1_700_000_000,
    endTime: 1_700_000_001,
  };
}

function hostPart(worker: string, job: string, attempt: number, seq: number): DataHost {
  return { kind: 'DATA', worker, job, attempt, seq, part: 'host', host: host('127.0.0.1') };
}

const jobsSent = (fx: Effect[]) =>
  fx.flatMap((e) =>
    e.type === 'publish' && e.out.channel === 'jobs' ? [{ to: e.out.to, ...e.out.message }] : [],
  );
const acks = (fx: Effect[]) =>
  fx.flatMap((e) =>
    e.type === 'publish' && e.out.channel === 'ack' ? [{ to: e.out.to, ...e.out.message }] : [],
  );
const persisted = (fx: Effect[]) => fx.flatMap((e) => (e.type === 'persist' ? [e.record] : []));
const finished = (fx: Effect[]) => fx.flatMap((e) => (e.type === 'finish' ? [e] : []));

describe('discovery and request counters', () => {
  it('broadcasts S_HELLO on connect and every round, with a rising round number', () => {
    const core = new MasterCore({ masterId: 'm1' });
    const rounds = [core.connected(T0), core.helloRound(T0 + 5000)].map((fx) =>
      fx.flatMap((e) => (e.type === 'publish' && e.out.channel === 'hello' ? [e.out] : [])),
    );
    expect(rounds.map((r) => r.map((o) => o.message))).toEqual([
      [{ kind: 'S_HELLO', master: 'm1', round: 1, ts: T0 }],
      [{ kind: 'S_HELLO', master: 'm1', round: 2, ts: T0 + 5000 }],
    ]);
  });

  it('a new worker is WAITING; each round raises its counter, CL_HELLO resets it', () => {
    const core = new MasterCore();
    core.clHello(hello('w1'), T0);
    expect(core.state.workers.get('w1')).toMatchObject({ state: 'WAITING', counter: 0 });
    core.helloRound(T0 + 5000);
    core.helloRound(T0 + 10_000);
    expect(core.state.workers.get('w1')?.counter).toBe(2);
    core.clHello(hello('w1'), T0 + 10_100);
    expect(core.state.workers.get('w1')?.counter).toBe(0);
  });

  it('a worker that misses two rounds becomes INACTIVE on the third, and WAITING when it answers', () => {
    const core = new MasterCore();
    core.clHello(hello('w1'), T0);
    core.helloRound(T0 + 5000);
    core.helloRound(T0 + 10_000);
    expect(core.state.workers.get('w1')?.state).toBe('WAITING');
    core.helloRound(T0 + 15_000);
    expect(core.state.workers.get('w1')).toMatchObject({ state: 'INACTIVE', counter: 3 });
    core.clHello(hello('w1'), T0 + 16_000);
    expect(core.state.workers.get('w1')).toMatchObject({ state: 'WAITING', counter: 0 });
  });
});

describe('assignment', () => {
  it('gives a waiting worker one job per free slot and makes it ACTIVE', () => {
    const core = new MasterCore();
    core.commands([cmd('j1'), cmd('j2'), cmd('j3')], T0);
    const fx = core.clHello(hello('w1', { slots: 2 }), T0);
    expect(jobsSent(fx)).toEqual([
      expect.objectContaining({ to: 'w1', kind: 'JOB', job: 'j1', attempt: 1, timeoutS: 300 }),
      expect.objectContaining({ to: 'w1', kind: 'JOB', job: 'j2', attempt: 1 }),
    ]);
    expect(core.state.workers.get('w1')?.state).toBe('ACTIVE');
    expect(core.state.pending.ids()).toEqual(['j3']);
  });

  it('persists the assignment before publishing the job', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    const fx = core.clHello(hello('w1'), T0);
    const assign = fx.findIndex((e) => e.type === 'persist' && e.record.t === 'assign');
    const publish = fx.findIndex((e) => e.type === 'publish' && e.out.channel === 'jobs');
    expect(assign).toBeGreaterThanOrEqual(0);
    expect(assign).toBeLessThan(publish);
  });

  it('stamps each JOB above the last, at least the clock, across restarts and compactions', () => {
    const stamps = (fx: Effect[]) => jobsSent(fx).map((j) => (j.kind === 'JOB' ? j.stamp : 0));
    const a = new MasterCore();
    const journal = [
      ...persisted(
        a.commands(
          ['j1', 'j2', 'j3', 'j4', 'j5'].map((id) => cmd(id)),
          T0,
        ),
      ),
    ];
    const first = a.clHello(hello('w1', { slots: 3 }), T0);
    journal.push(...persisted(first));
    // Three in one ms: the clock's ms, then one more each.
    expect(stamps(first)).toEqual([T0, T0 + 1, T0 + 2]);
    // A restart whose clock went back still stamps above the journal's last.
    const b = new MasterCore();
    b.restore(journal, T0 - 60_000);
    expect(stamps(b.clHello(hello('w2'), T0 - 60_000))).toEqual([T0 + 3]);
    // So does one from the compacted journal, where no assign record keeps a stamp.
    const c = new MasterCore();
    c.restore(b.snapshot(), T0 - 60_000);
    expect(stamps(c.clHello(hello('w3'), T0 - 60_000))).toEqual([T0 + 4]);
    // And a later clock is taken as it is.
    const d = new MasterCore();
    d.restore(c.snapshot(), T0 + 3_600_000);
    d.commands([cmd('j6')], T0 + 3_600_000);
    expect(stamps(d.clHello(hello('w4'), T0 + 3_600_000))).toEqual([T0 + 3_600_000]);
  });

  it('does not hand work to an INACTIVE worker', () => {
    const core = new MasterCore();
    core.clHello(hello('w1'), T0);
    for (let i = 1; i <= 3; i++) core.helloRound(T0 + i * 5000);
    const fx = core.commands([cmd('j1')], T0 + 16_000);
    expect(jobsSent(fx)).toEqual([]);
    expect(core.state.pending.ids()).toEqual(['j1']);
  });
});

describe('requeue with attempts', () => {
  it("an INACTIVE worker's job goes back to the head of the queue with the next attempt", () => {
    const core = new MasterCore();
    core.commands([cmd('j1'), cmd('j2')], T0);
    core.clHello(hello('w1'), T0);
    for (let i = 1; i <= 3; i++) core.helloRound(T0 + i * 5000);
    expect(core.state.pending.ids()).toEqual(['j1', 'j2']);
    expect(core.state.jobs.get('j1')).toMatchObject({ status: 'pending', attempts: 1 });
    const fx = core.clHello(hello('w2'), T0 + 16_000);
    expect(jobsSent(fx)).toEqual([expect.objectContaining({ to: 'w2', job: 'j1', attempt: 2 })]);
  });

  it('CL_BYE (last will) makes the worker INACTIVE at once', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    core.clHello(hello('w2'), T0);
    const fx = core.clBye({ kind: 'CL_BYE', worker: 'w1' }, T0 + 100);
    expect(core.state.workers.get('w1')?.state).toBe('INACTIVE');
    expect(jobsSent(fx)).toEqual([expect.objectContaining({ to: 'w2', job: 'j1', attempt: 2 })]);
  });

  it('a failed attempt is retried, and the job fails after maxAttempts with the reason', () => {
    const core = new MasterCore({ maxAttempts: 2 });
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    const fx1 = core.data(endPart('w1', 'j1', 1, 0, 'failed'), T0 + 1000);
    expect(jobsSent(fx1)).toEqual([expect.objectContaining({ job: 'j1', attempt: 2 })]);
    const fx2 = core.data(endPart('w1', 'j1', 2, 0, 'timeout'), T0 + 2000);
    expect(jobsSent(fx2)).toEqual([]);
    expect(core.state.jobs.get('j1')).toMatchObject({ status: 'failed' });
    expect(core.state.jobs.get('j1')?.reason).toMatch(/gave up after 2 attempts: timeout/);
    expect(finished([...fx1, ...fx2]).map((f) => f.record.status)).toEqual(['failed', 'timeout']);
    expect(core.state.workers.get('w1')).toMatchObject({ jobsFailed: 2, state: 'WAITING' });
  });

  it('an attempt past its deadline is cancelled on its worker and requeued', () => {
    const core = new MasterCore({ deadlineGraceMs: 1000 });
    core.commands([cmd('j1', 10)], T0);
    core.clHello(hello('w1'), T0);
    core.clHello(hello('w1'), T0 + 4000);
    core.clHello(hello('w1', { running: [{ job: 'j1', attempt: 1 }] }), T0 + 9000);
    const fx = core.helloRound(T0 + 11_500);
    expect(jobsSent(fx)).toEqual([
      expect.objectContaining({ to: 'w1', kind: 'CANCEL', job: 'j1', attempt: 1 }),
      expect.objectContaining({ to: 'w1', kind: 'JOB', job: 'j1', attempt: 2 }),
    ]);
  });

  it('parts still arriving past the deadline keep the attempt; once they stop it is cut off', () => {
    const core = new MasterCore({ deadlineGraceMs: 1000 });
    core.commands([cmd('j1', 10)], T0);
    core.clHello(hello('w1'), T0);
    const busy = hello('w1', { running: [{ job: 'j1', attempt: 1 }] });
    core.data(hostPart('w1', 'j1', 1, 0), T0 + 10_500);
    core.data(hostPart('w1', 'j1', 1, 1), T0 + 11_200);
    core.clHello(busy, T0 + 11_400);
    expect(jobsSent(core.helloRound(T0 + 12_000))).toEqual([]);
    core.clHello(busy, T0 + 12_100);
    expect(jobsSent(core.helloRound(T0 + 12_300))).toEqual([
      expect.objectContaining({ to: 'w1', kind: 'CANCEL', job: 'j1', attempt: 1 }),
      expect.objectContaining({ to: 'w1', kind: 'JOB', job: 'j1', attempt: 2 }),
    ]);
  });

  it('a worker that restarted and lost its job gets it requeued, not after a fresh assignment', () => {
    const core = new MasterCore({ lostAfterMs: 5000 });
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    // A CL_HELLO that crossed the JOB on the wire does not count as losing it.
    core.clHello(hello('w1'), T0 + 100);
    expect(core.state.jobs.get('j1')?.live.size).toBe(1);
    const fx = core.clHello(hello('w1'), T0 + 6000);
    expect(jobsSent(fx)).toEqual([expect.objectContaining({ job: 'j1', attempt: 2 })]);
  });
});

describe('DATA and DATA_ACK', () => {
  function running() {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    return core;
  }

  it('stores each part before acknowledging exactly that part', () => {
    const core = running();
    const fx = core.data(hostPart('w1', 'j1', 1, 0), T0 + 10);
    expect(fx.map((e) => e.type)).toEqual(['persist', 'publish']);
    expect(persisted(fx)).toEqual([expect.objectContaining({ t: 'host', job: 'j1', seq: 0 })]);
    expect(acks(fx)).toEqual([
      { to: 'w1', kind: 'DATA_ACK', job: 'j1', attempt: 1, seq: 0, outcome: 'stored' },
    ]);
  });

  it('ends the job once the end part and all host parts are in, whatever their order', () => {
    const core = running();
    const fxEnd = core.data(endPart('w1', 'j1', 1, 2), T0 + 10);
    expect(finished(fxEnd)).toEqual([]);
    core.data(hostPart('w1', 'j1', 1, 1), T0 + 20);
    const fx = core.data(hostPart('w1', 'j1', 1, 0), T0 + 30);
    const [fin] = finished(fx);
    expect(fin?.hosts).toHaveLength(2);
    expect(fin?.record).toMatchObject({ job: 'j1', attempt: 1, status: 'completed', hostCount: 2 });
    expect(core.state.jobs.get('j1')).toMatchObject({ status: 'done', doneAttempt: 1 });
    expect(core.state.workers.get('w1')).toMatchObject({ state: 'WAITING', jobsDone: 1 });
  });

  it('acknowledges a duplicate part without storing it again', () => {
    const core = running();
    core.data(hostPart('w1', 'j1', 1, 0), T0 + 10);
    const dup = core.data(hostPart('w1', 'j1', 1, 0), T0 + 20);
    expect(persisted(dup)).toEqual([]);
    expect(acks(dup)).toEqual([expect.objectContaining({ seq: 0, outcome: 'duplicate' })]);
  });

  it('a resent end part after the job is done is acknowledged as duplicate and writes nothing', () => {
    const core = running();
    core.data(hostPart('w1', 'j1', 1, 0), T0 + 10);
    core.data(endPart('w1', 'j1', 1, 1), T0 + 20);
    for (const msg of [hostPart('w1', 'j1', 1, 0), endPart('w1', 'j1', 1, 1)]) {
      const fx = core.data(msg, T0 + 30);
      expect(finished(fx)).toEqual([]);
      expect(persisted(fx)).toEqual([]);
      expect(acks(fx)).toEqual([expect.objectContaining({ outcome: 'duplicate' })]);
    }
  });

  it('a late result of an earlier attempt wins if it completes first; the later one is cancelled', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    core.clHello(hello('w2'), T0);
    core.clBye({ kind: 'CL_BYE', worker: 'w1' }, T0 + 100);
    expect(core.state.jobs.get('j1')?.live.get(2)?.worker).toBe('w2');
    core.data(hostPart('w1', 'j1', 1, 0), T0 + 200);
    const fx = core.data(endPart('w1', 'j1', 1, 1), T0 + 300);
    expect(finished(fx).map((f) => f.record.attempt)).toEqual([1]);
    expect(jobsSent(fx)).toEqual([
      expect.objectContaining({ to: 'w2', kind: 'CANCEL', job: 'j1', attempt: 2 }),
    ]);
    const late = core.data(endPart('w2', 'j1', 2, 0), T0 + 400);
    expect(finished(late)).toEqual([]);
    expect(acks(late)).toEqual([expect.objectContaining({ attempt: 2, outcome: 'stale' })]);
  });

  it('drops DATA that claims an attempt another worker owns', () => {
    const core = running();
    core.data(hostPart('w1', 'j1', 1, 0), T0 + 10);
    const fx = core.data(hostPart('intruder', 'j1', 1, 1), T0 + 20);
    expect(persisted(fx)).toEqual([]);
    expect(acks(fx)).toEqual([]);
    expect(fx).toContainEqual(
      expect.objectContaining({
        type: 'log',
        data: expect.objectContaining({ code: 'SCANMESH_IDENTITY_MISMATCH' }),
      }),
    );
  });

  it('answers DATA for unknown jobs with stale so the worker can drop it', () => {
    const core = running();
    const fx = core.data(hostPart('w1', 'nope', 1, 0), T0);
    expect(acks(fx)).toEqual([expect.objectContaining({ job: 'nope', outcome: 'stale' })]);
  });
});

describe('commands file changes', () => {
  it('adds new lines as jobs and withdraws pending jobs whose line is gone', () => {
    const core = new MasterCore();
    core.commands([cmd('j1'), cmd('j2')], T0);
    core.commands([cmd('j1'), cmd('j3')], T0 + 1000);
    expect(core.state.jobs.get('j2')?.status).toBe('removed');
    expect(core.state.pending.ids()).toEqual(['j1', 'j3']);
    expect(core.state.jobs.get('j3')?.seq).toBe(3);
  });

  it('a pending job withdrawn with its line is queued again when the line is back', () => {
    const core = new MasterCore();
    const journal = [...persisted(core.commands([cmd('j1')], T0))];
    journal.push(...persisted(core.commands([], T0 + 1000)));
    expect(core.state.jobs.get('j1')?.status).toBe('removed');
    journal.push(...persisted(core.commands([cmd('j1')], T0 + 2000)));
    const restarted = new MasterCore();
    restarted.restore(journal, T0 + 3000);
    for (const c of [core, restarted]) {
      expect(c.state.jobs.get('j1')?.status).toBe('pending');
      expect(jobsSent(c.clHello(hello('w1'), T0 + 4000))).toEqual([
        expect.objectContaining({ kind: 'JOB', job: 'j1', attempt: 1 }),
      ]);
    }
  });
});

describe('restore', () => {
  function journalOf(core: MasterCore, steps: ((c: MasterCore) => Effect[])[]): MasterRecord[] {
    return steps.flatMap((s) => persisted(s(core)));
  }

  it('a deadline that passed while the master was down leaves the worker time to report', () => {
    // Assigned at T0 with a 300 s timeout; the master dies at T0+290 s, the worker finishes and
    // spools at T0+295 s, and the master is back at T0+340 s, past the deadline (T0+330 s).
    const a = new MasterCore({ maxAttempts: 1 });
    const journal = journalOf(a, [
      (c) => c.commands([cmd('j1')], T0),
      (c) => c.clHello(hello('w1'), T0),
    ]);
    const b = new MasterCore({ maxAttempts: 1 });
    b.restore(journal, T0 + 340_000);
    const back = b.connected(T0 + 340_000);
    expect(jobsSent(back)).toEqual([]);
    expect(persisted(back).filter((r) => r.t === 'cutoff')).toEqual([]);
    const fx = b.data(endPart('w1', 'j1', 1, 0), T0 + 342_000);
    expect(finished(fx).map((f) => f.record.status)).toEqual(['completed']);
    expect(b.state.jobs.get('j1')?.status).toBe('done');
    // Silent beyond the grace, the attempt is cut off as ever.
    const c = new MasterCore({ maxAttempts: 2 });
    c.restore(journal, T0 + 340_000);
    c.connected(T0 + 340_000);
    const late = c.helloRound(T0 + 375_000);
    expect(persisted(late).filter((r) => r.t === 'cutoff')).toHaveLength(1);
  });

  it('rounds the master could not send (broker lost) count against no worker', () => {
    const core = new MasterCore();
    core.commands([cmd('j1')], T0);
    core.clHello(hello('w1'), T0);
    core.helloRound(T0 + 5000);
    core.helloRound(T0 + 10_000);
    expect(core.state.workers.get('w1')?.counter).toBe(2);
    // The broker comes back 400 s later, past the job's deadline: no round ran meanwhile.
    const back = core.connected(T0 + 410_000);
    expect(core.state.workers.get('w1')).toMatchObject({ state: 'ACTIVE', counter: 1 });
    expect(persisted(back).filter((r) => r.t === 'cutoff')).toEqual([]);
  });

  it('rebuilds jobs, live attempts and received parts; done jobs stay done', () => {
    const a = new MasterCore();
    const journal = journalOf(a, [
      (c) => c.commands([cmd('j1'), cmd('j2'), cmd('j3')], T0),
      (c) => c.clHello(hello('w1', { slots: 2 }), T0),
      (c) => c.data(hostPart('w1', 'j1', 1, 0), T0 + 10),
      (c) => c.data(endPart('w1', 'j1', 1, 1), T0 + 20),
      (c) => c.data(hostPart('w1', 'j3', 1, 0), T0 + 30),
    ]);
    const b = new MasterCore();
    b.restore(journal, T0 + 60_000);
    expect(b.state.jobs.get('j1')?.status).toBe('done');
    expect(b.state.jobs.get('j2')).toMatchObject({ status: 'running', attempts: 1 });
    expect(b.state.jobs.get('j3')).toMatchObject({ status: 'running', attempts: 1 });
    expect(b.state.jobs.get('j3')?.receipts.get(1)?.hosts.size).toBe(1);
    expect(b.state.workers.get('w1')).toMatchObject({ state: 'ACTIVE' });
    // The worker's result for j2 arrives at the new master, which accepts it instead of re-running.
    const fx = b.data(endPart('w1', 'j2', 1, 0), T0 + 61_000);
    expect(finished(fx).map((f) => f.record.job)).toEqual(['j2']);
    // The same journal compacted yields the same state.
    const c = new MasterCore();
    c.restore(b.snapshot(), T0 + 62_000);
    expect([...c.state.jobs.values()].map((j) => [j.id, j.status, j.attempts])).toEqual([
      ['j1', 'done', 0],
      ['j2', 'done', 0],
      ['j3', 'running', 1],
    ]);
  });

  it('requeues the attempts of a worker that never comes back after a restart, once its grace is over', () => {
    const a = new MasterCore();
    const journal = journalOf(a, [
      (c) => c.commands([cmd('j1')], T0),
      (c) => c.clHello(hello('w1'), T0),
    ]);
    const b = new MasterCore({ restartGraceMs: 20_000 });
    b.restore(journal, T0 + 60_000);
    for (let i = 1; i <= 3; i++) b.helloRound(T0 + 60_000 + i * 5000);
    // Rounds within the grace do not count: the worker may still be backing off.
    expect(b.state.jobs.get('j1')).toMatchObject({ status: 'running' });
    expect(b.state.workers.get('w1')?.counter).toBe(0);
    for (let i = 4; i <= 6; i++) b.helloRound(T0 + 60_000 + i * 5000);
    expect(b.state.jobs.get('j1')).toMatchObject({ status: 'pending', attempts: 1 });
    const fx = b.clHello(hello('w2'), T0 + 80_000);
    expect(jobsSent(fx)).toEqual([expect.objectContaining({ to: 'w2', attempt: 2 })]);
  });

  it('a crash between filing a completed attempt and recording the job done does not run it again', () => {
    // What the shell makes durable for one completed attempt: its parts, then (store.finish) the
    // `ended` record, then, in a later journal write, the job's `status`. SIGKILL in between.
    const a = new MasterCore();
    const journal = [
      ...persisted(a.commands([cmd('j1')], T0)),
      ...persisted(a.clHello(hello('w1'), T0)),
    ];
    const fx = a.data(endPart('w1', 'j1', 1, 0), T0 + 10);
    journal.push(...persisted(fx).filter((r) => r.t !== 'status'));
    journal.push({ t: 'ended', record: finished(fx)[0]!.record });

    const b = new MasterCore();
    const restored = b.restore(journal, T0 + 60_000);
    expect(b.state.jobs.get('j1')).toMatchObject({ status: 'done', doneAttempt: 1 });
    // The job's end is recorded now, and its attempt is not filed (or written to InfluxDB) twice.
    expect(persisted(restored)).toContainEqual(
      expect.objectContaining({ t: 'status', job: 'j1', status: 'done' }),
    );
    expect(finished(restored)).toEqual([]);
    // A worker asking for work gets nothing: the scan is not run a second time.
    expect(jobsSent(b.clHello(hello('w2'), T0 + 61_000))).toEqual([]);
  });

  it('a crash between the last failed attempt and the failed status gives no extra attempt', () => {
    // The shell makes the attempt's `ended` record and the job's `status` durable in separate
    // journal writes; SIGKILL in between.
    const a = new MasterCore({ maxAttempts: 2 });
    const journal = [
      ...persisted(a.commands([cmd('j1')], T0)),
      ...persisted(a.clHello(hello('w1'), T0)),
    ];
    const first = a.data(endPart('w1', 'j1', 1, 0, 'failed'), T0 + 10);
    journal.push(...persisted(first), { t: 'ended', record: finished(first)[0]!.record });
    const fx = a.data(endPart('w1', 'j1', 2, 0, 'failed'), T0 + 20);
    journal.push(...persisted(fx).filter((r) => r.t !== 'status'));
    journal.push({ t: 'ended', record: finished(fx)[0]!.record });

    const b = new MasterCore({ maxAttempts: 2 });
    const restored = b.restore(journal, T0 + 60_000);
    const reason = 'gave up after 2 attempts: failed: nmap exploded';
    expect(b.state.jobs.get('j1')).toMatchObject({ status: 'failed', reason, attempts: 2 });
    expect(persisted(restored)).toContainEqual({
      t: 'status',
      job: 'j1',
      status: 'failed',
      reason,
    });
    expect(jobsSent(b.clHello(hello('w2'), T0 + 61_000))).toEqual([]);
  });

  it('a worker freed while a restart ends what it found gets no attempt of a spent job', () => {
    // ja's only attempt failed (its `ended` record is durable, its status not); jb's end part is
    // stored but not ended. Ending jb on restore frees w2, which must not get ja again.
    const a = new MasterCore({ maxAttempts: 1 });
    const journal = [
      ...persisted(a.commands([cmd('ja'), cmd('jb')], T0)),
      ...persisted(a.clHello(hello('w1'), T0)),
      ...persisted(a.clHello(hello('w2'), T0)),
    ];
    const fx = a.data(endPart('w1', 'ja', 1, 0, 'failed'), T0 + 10);
    journal.push(...persisted(fx).filter((r) => r.t !== 'status'));
    journal.push({ t: 'ended', record: finished(fx)[0]!.record });
    journal.push(
      ...persisted(a.data(endPart('w2', 'jb', 1, 0), T0 + 20)).filter((r) => r.t === 'end'),
    );

    const b = new MasterCore({ maxAttempts: 1 });
    const restored = b.restore(journal, T0 + 60_000);
    expect(b.state.jobs.get('ja')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(b.state.jobs.get('jb')?.status).toBe('done');
    expect(jobsSent(restored)).toEqual([]);
  });

  it('a job whose last attempt was cut off gives up after a restart with the cutoff reason', () => {
    const journal: MasterRecord[] = [
      { t: 'job', id: 'j1', seq: 1, command: 'x', args: ['127.0.0.1'], timeoutS: 60 },
      { t: 'assign', job: 'j1', attempt: 1, worker: 'w1', deadline: T0 + 90_000 },
      { t: 'cutoff', job: 'j1', attempt: 1, reason: 'deadline passed' },
    ];
    const spent = new MasterCore({ maxAttempts: 1 });
    spent.restore(journal, T0);
    expect(spent.state.jobs.get('j1')).toMatchObject({
      status: 'failed',
      reason: 'gave up after 1 attempts: deadline passed',
    });
    // With attempts left, the same journal runs it again.
    const left = new MasterCore({ maxAttempts: 2 });
    left.restore(journal, T0);
    expect(jobsSent(left.clHello(hello('w2'), T0 + 1000))).toEqual([
      expect.objectContaining({ kind: 'JOB', job: 'j1', attempt: 2 }),
    ]);
  });

  it('a compacted journal keeps why a requeued job lost its last attempt', () => {
    const a = new MasterCore({ maxAttempts: 3 });
    a.commands([cmd('j1')], T0);
    a.clHello(hello('w1'), T0);
    a.data(endPart('w1', 'j1', 1, 0, 'failed'), T0 + 10);
    a.clBye({ kind: 'CL_BYE', worker: 'w1' }, T0 + 20);
    expect(a.state.jobs.get('j1')).toMatchObject({ status: 'pending', attempts: 2 });
    // Restarted with fewer attempts allowed, the job gives up with the reason it had.
    const b = new MasterCore({ maxAttempts: 2 });
    b.restore(a.snapshot(), T0 + 30);
    expect(b.state.jobs.get('j1')?.status).toBe('failed');
    expect(b.state.jobs.get('j1')?.reason).toMatch(/^gave up after 2 attempts: worker w1 inactive/);
  });

  it('after a restart, a worker gets no more work than its slots, even holding two attempts', () => {
    // A 1-slot worker the master believes runs two attempts (one it adopted while another was
    // handed out): the journal says nothing about its slots, so replay must not invent a second.
    const journal: MasterRecord[] = [
      ...['j1', 'j2', 'j3'].map((id, i) => ({ t: 'job' as const, ...cmd(id), seq: i + 1 })),
      { t: 'assign', job: 'j1', attempt: 1, worker: 'w1', deadline: T0 + 90_000 },
      { t: 'assign', job: 'j2', attempt: 1, worker: 'w1', deadline: T0 + 90_000 },
    ];
    const b = new MasterCore();
    b.restore(journal, T0);
    const fx = b.data(endPart('w1', 'j1', 1, 0), T0 + 1000);
    expect(jobsSent(fx).filter((m) => m.kind === 'JOB')).toEqual([]);
    // Its CL_HELLO says how many slots it has; then it gets work as usual.
    const hi = b.clHello(
      hello('w1', { slots: 2, running: [{ job: 'j2', attempt: 1 }] }),
      T0 + 1100,
    );
    expect(jobsSent(hi)).toEqual([expect.objectContaining({ kind: 'JOB', job: 'j3' })]);
  });

  it('ends an attempt that a crash left complete but not ended', () => {
    const journal: MasterRecord[] = [
      { t: 'job', id: 'j1', seq: 1, command: 'x', args: ['127.0.0.1'], timeoutS: 60 },
      { t: 'assign', job: 'j1', attempt: 1, worker: 'w1', deadline: T0 + 90_000 },
      { t: 'end', job: 'j1', attempt: 1, worker: 'w1', end: endPart('w1', 'j1', 1, 0) },
    ];
    const fx = new MasterCore().restore(journal, T0);
    expect(finished(fx).map((f) => [f.record.job, f.record.status])).toEqual([['j1', 'completed']]);
  });
});

describe('split jobs', () => {
  it('reports progress per parent and its end once every block has ended', () => {
    const core = new MasterCore();
    const block = (k: number): CommandEntry => ({ ...cmd(`p.${k}`), parent: 'p' });
    core.commands([block(1), block(2)], T0);
    core.clHello(hello('w1', { slots: 2 }), T0);
    const logs = (fx: Effect[]) =>
      fx.flatMap((e) => (e.type === 'log' && e.msg.startsWith('split') ? [[e.msg, e.data]] : []));
    const first = core.data(endPart('w1', 'p.1', 1, 0), T0 + 10);
    expect(logs(first)).toEqual([
      ['split progress', { parent: 'p', done: 1, failed: 0, blocks: 2 }],
    ]);
    const second = core.data(endPart('w1', 'p.2', 1, 0), T0 + 20);
    expect(logs(second)).toEqual([
      ['split job ended', { parent: 'p', done: 2, failed: 0, blocks: 2 }],
    ]);
    const again = new MasterCore();
    again.restore(core.snapshot(), T0 + 30);
    expect(again.state.children.get('p')).toEqual(['p.1', 'p.2']);
  });
});
