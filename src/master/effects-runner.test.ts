import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { After, Effect, MasterRecord, Outgoing } from './core/types.ts';
import { journalOrder, runEffects, type EffectPorts } from './effects-runner.ts';

const persist = (record: MasterRecord): Effect => ({ type: 'persist', record });
const assign = (job: string, attempt = 1): MasterRecord => ({
  t: 'assign',
  job,
  attempt,
  worker: 'w1',
  deadline: 0,
});
const end = (job: string, attempt = 1): MasterRecord => ({
  t: 'end',
  job,
  attempt,
  worker: 'w1',
  end: {} as never,
});
const status = (job: string): MasterRecord => ({ t: 'status', job, status: 'done', reason: '' });
const finish = (job: string, attempt = 1): Effect => ({
  type: 'finish',
  record: { job, attempt } as AttemptRecord,
  hosts: [],
});
const publish = (out: Outgoing, after: After): Effect => ({ type: 'publish', out, after });
const ack = (job: string, after: After, to = 'w1'): Effect =>
  publish(
    {
      to,
      channel: 'ack',
      message: { kind: 'DATA_ACK', job, attempt: 1, seq: 0, outcome: 'stored' },
    },
    after,
  );
const jobMsg = (job: string, after: After, to = 'w1'): Effect =>
  publish(
    {
      to,
      channel: 'jobs',
      message: { kind: 'JOB', job, attempt: 1, stamp: 1, args: [], timeoutS: 1 },
    },
    after,
  );
const log = (msg: string): Effect => ({ type: 'log', level: 'info', msg, data: {} });

function describeRecord(r: MasterRecord): string {
  if (r.t === 'ended') return `ended ${r.record.job}`;
  if (r.t === 'schedule' || r.t === 'unschedule') return `${r.t} ${r.line}`;
  if (r.t === 'stamp') return `stamp ${r.stamp}`;
  return `${r.t} ${r.t === 'job' ? r.id : r.job}`;
}

/**
 * Fake ports under the test's control. The journal behaves like the real one: records are
 * issued in call order and become durable, all issued so far at once, when the test calls
 * `sync()` (its group commit). Each results file is written when the test calls `fileDone(job)`.
 */
function harness() {
  const issued: string[] = [];
  const durable: string[] = [];
  const sent: string[] = [];
  const logged: string[] = [];
  const filing: string[] = [];
  const failures: unknown[] = [];
  let unsynced: { name: string; resolve: () => void }[] = [];
  const files = new Map<
    string,
    { promise: Promise<void>; resolve: () => void; fail: (e: Error) => void }
  >();
  const file = (job: string) => {
    let entry = files.get(job);
    if (!entry) {
      let resolve!: () => void;
      let fail!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        fail = rej;
      });
      entry = { promise, resolve, fail };
      files.set(job, entry);
    }
    return entry;
  };
  const issue = (name: string) => {
    issued.push(name);
    return new Promise<void>((resolve) => unsynced.push({ name, resolve }));
  };
  const logger = createLogger({
    level: 'info',
    destination: { write: (l: string) => void logged.push((JSON.parse(l) as { msg: string }).msg) },
  });
  const ports: EffectPorts = {
    order: journalOrder(),
    append: (records) =>
      Promise.all(records.map((r) => issue(describeRecord(r)))).then(() => undefined),
    fileResult: (record) => {
      filing.push(record.job);
      return file(record.job).promise;
    },
    ended: (record) => issue(`ended ${record.job}`),
    publish: (out) =>
      void sent.push(`${out.message.kind} ${'job' in out.message ? out.message.job : ''}`),
    workerChanged: () => undefined,
    logger,
    fatal: (err) => void failures.push(err),
  };
  return {
    issued,
    durable,
    sent,
    logged,
    filing,
    failures,
    ports,
    run: (effects: Effect[]) => runEffects(effects, ports),
    fileDone: async (job: string) => {
      file(job).resolve();
      await settle();
    },
    fileFailed: async (job: string, err: Error) => {
      file(job).fail(err);
      await settle();
    },
    sync: async () => {
      const batch = unsynced;
      unsynced = [];
      for (const u of batch) {
        durable.push(u.name);
        u.resolve();
      }
      await settle();
    },
  };
}

/** Lets every pending promise reaction run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** The items of `list` that concern `job`, in order. */
const of = (list: string[], job: string) => list.filter((x) => x.endsWith(` ${job}`));

describe('effects runner', () => {
  it('sends a JOB once its own assign is durable, while an earlier `ended` of the step is being filed', async () => {
    const h = harness();
    // A worker's last part of j1 arrives: the core stores it, acks it, files the attempt, marks
    // j1 done and hands the freed worker j2.
    const endJ1 = end('j1');
    const assignJ2 = assign('j2');
    const step = h.run([
      persist(endJ1),
      ack('j1', [endJ1]),
      finish('j1'),
      persist(status('j1')),
      log('job done'),
      persist(assignJ2),
      jobMsg('j2', [assignJ2]),
      log('job started'),
    ]);
    await settle();
    expect(h.issued).toEqual(['end j1', 'assign j2']);
    // Issued is not durable: nothing has left yet.
    expect(h.sent).toEqual([]);
    await h.sync();
    expect(h.sent).toEqual(['DATA_ACK j1', 'JOB j2']);
    // j1's results file is still being written: its records wait, and so do the step's log lines.
    expect(h.issued).toEqual(['end j1', 'assign j2']);
    expect(h.logged).toEqual([]);
    await h.fileDone('j1');
    expect(h.issued).toEqual(['end j1', 'assign j2', 'ended j1', 'status j1']);
    expect(h.logged).toEqual([]);
    await h.sync();
    await step;
    expect(h.logged).toEqual(['job done', 'job started']);
    expect(h.failures).toEqual([]);
  });

  it('starts a results file only once the step has made its end part durable and acked it', async () => {
    const h = harness();
    const endJ1 = end('j1');
    const step = h.run([persist(endJ1), ack('j1', [endJ1]), finish('j1'), persist(status('j1'))]);
    await settle();
    // The file's fsync would share the disk with the journal's, which the DATA_ACK waits for.
    expect(h.filing).toEqual([]);
    await h.sync();
    expect(h.sent).toEqual(['DATA_ACK j1']);
    expect(h.filing).toEqual(['j1']);
    await h.fileDone('j1');
    await h.sync();
    await step;
    expect(h.durable).toEqual(['end j1', 'ended j1', 'status j1']);
    expect(h.failures).toEqual([]);
  });

  it('holds a message until the record it names is durable, even when nothing else is pending', async () => {
    const h = harness();
    const host: MasterRecord = {
      t: 'host',
      job: 'j1',
      attempt: 1,
      worker: 'w1',
      seq: 0,
      host: {} as never,
    };
    const step = h.run([persist(host), ack('j1', [host])]);
    await settle();
    expect(h.issued).toEqual(['host j1']);
    expect(h.sent).toEqual([]);
    await h.sync();
    await step;
    expect(h.sent).toEqual(['DATA_ACK j1']);
  });

  it('never sends a DATA_ACK that rests on an earlier step before that step’s `ended` record is durable', async () => {
    const h = harness();
    const endJ1 = end('j1');
    const step1 = h.run([persist(endJ1), ack('j1', [endJ1]), finish('j1'), persist(status('j1'))]);
    // The worker sends its end part again (it had not seen the ack): the core answers
    // "duplicate", which rests on what earlier steps persisted.
    const step2 = h.run([ack('j1', { job: 'j1' }, 'w1')]);
    await h.sync();
    expect(h.sent).toEqual(['DATA_ACK j1']);
    await h.fileDone('j1');
    // `ended j1` is issued, not yet durable.
    expect(h.issued).toEqual(['end j1', 'ended j1', 'status j1']);
    expect(h.sent).toEqual(['DATA_ACK j1']);
    await h.sync();
    await Promise.all([step1, step2]);
    expect(h.durable).toContain('ended j1');
    expect(h.sent).toEqual(['DATA_ACK j1', 'DATA_ACK j1']);
  });

  it("an answer resting on a job's earlier records waits for them, not for other jobs' results files", async () => {
    const h = harness();
    const endJ1 = end('j1');
    const step1 = h.run([persist(endJ1), ack('j1', [endJ1]), persist(status('j1'))]);
    const step2 = h.run([finish('j2')]);
    // j1's end part again: "duplicate" rests on j1's records, while j2's results file is written.
    const step3 = h.run([ack('j1', { job: 'j1' }, 'w2')]);
    await settle();
    expect(h.sent).toEqual([]);
    await h.sync();
    expect(h.sent).toEqual(['DATA_ACK j1', 'DATA_ACK j1']);
    await h.fileDone('j2');
    await h.sync();
    await Promise.all([step1, step2, step3]);
    expect(h.issued).toEqual(['end j1', 'status j1', 'ended j2']);
  });

  it("an answer resting on a job's records also waits for a barrier issued before it", async () => {
    const h = harness();
    const run = { line: 'r', k: 1, at: 0 };
    const step1 = h.run([finish('j1')]);
    const step2 = h.run([
      persist({ t: 'job', id: 'r-r1', seq: 2, command: '', args: [], timeoutS: 1, run }),
    ]);
    const step3 = h.run([ack('r-r1', { job: 'r-r1' })]);
    await h.sync();
    // The run's job record waits (a barrier) for j1's ended record, and the answer for it.
    expect(h.sent).toEqual([]);
    await h.fileDone('j1');
    await h.sync();
    await Promise.all([step1, step2, step3]);
    expect(h.issued).toEqual(['ended j1', 'job r-r1']);
    expect(h.sent).toEqual(['DATA_ACK r-r1']);
  });

  it("keeps each job's records in the core's order across steps, and lets other jobs' records pass", async () => {
    const h = harness();
    // Step 1 files j1's attempt 1 (failed) and hands j1 out again, and j2 to another worker.
    const assignJ1b = assign('j1', 2);
    const step1 = h.run([
      persist(end('j1')),
      finish('j1'),
      persist(assignJ1b),
      jobMsg('j1', [assignJ1b], 'w2'),
      persist(assign('j2')),
    ]);
    // Step 2, while j1's results file is not written yet: a CL_HELLO without j2 cuts it off,
    // and a deadline cuts off j1's attempt 2.
    const step2 = h.run([
      persist({ t: 'cutoff', job: 'j2', attempt: 1, reason: 'lost' }),
      persist({ t: 'cutoff', job: 'j1', attempt: 2, reason: 'deadline' }),
    ]);
    await settle();
    await h.sync();
    expect(h.issued).toEqual(['end j1', 'assign j2', 'cutoff j2']);
    // j1's second attempt is not handed out before its assign, which waits for the file.
    expect(h.sent).toEqual([]);
    await h.fileDone('j1');
    await h.sync();
    await Promise.all([step1, step2]);
    // Replayed in this order, each attempt ends up as it was: j2's and j1's second attempt cut
    // off, j1's first one ended. The other way round a cut-off attempt would come back to life.
    expect(of(h.issued, 'j1')).toEqual(['end j1', 'ended j1', 'assign j1', 'cutoff j1']);
    expect(of(h.issued, 'j2')).toEqual(['assign j2', 'cutoff j2']);
    expect(h.sent).toEqual(['JOB j1']);
  });

  it("files `ended` records in the core's order even when a later results file is written first", async () => {
    const h = harness();
    const steps = [h.run([finish('j1'), persist(status('j1'))]), h.run([finish('j2')])];
    await h.fileDone('j2');
    expect(h.issued).toEqual([]);
    await h.fileDone('j1');
    await h.sync();
    await Promise.all(steps);
    expect(h.issued).toEqual(['ended j1', 'status j1', 'ended j2']);
  });

  it('makes schedule records and the jobs of a run wait for every earlier record, and later ones wait for them', async () => {
    const h = harness();
    const run = { line: 'r', k: 2, at: 0 };
    const steps = [
      h.run([finish('r-r1'), persist(status('r-r1'))]),
      h.run([
        persist({ t: 'job', id: 'r-r2', seq: 2, command: '', args: [], timeoutS: 1, run }),
        persist(assign('r-r2')),
      ]),
      h.run([persist(assign('j9'))]),
    ];
    await h.sync();
    expect(h.issued).toEqual([]);
    await h.fileDone('r-r1');
    await h.sync();
    await Promise.all(steps);
    expect(h.issued).toEqual(['ended r-r1', 'status r-r1', 'job r-r2', 'assign r-r2', 'assign j9']);
  });

  it('issues the records of many steps before any is durable, so one fsync carries them all', async () => {
    const h = harness();
    const steps = [1, 2, 3].map((n) => {
      const a = assign(`j${n}`);
      return h.run([persist(a), jobMsg(`j${n}`, [a], `w${n}`)]);
    });
    await settle();
    expect(h.issued).toEqual(['assign j1', 'assign j2', 'assign j3']);
    expect(h.sent).toEqual([]);
    await h.sync();
    await Promise.all(steps);
    expect(h.sent).toEqual(['JOB j1', 'JOB j2', 'JOB j3']);
  });

  it('sends the messages to one worker in the order the core made them', async () => {
    const h = harness();
    const a2 = assign('j2');
    const a3 = assign('j3');
    const steps = [
      h.run([finish('j1'), ack('j1', { job: 'j1' }, 'w1')]),
      h.run([persist(a2), jobMsg('j2', [a2], 'w2')]),
      h.run([persist(a3), jobMsg('j3', [a3], 'w1')]),
    ];
    await h.sync();
    // j3's assign is durable, but the earlier ack to w1 waits for j1's ended record; w2's JOB
    // does not.
    expect(h.sent).toEqual(['JOB j2']);
    await h.fileDone('j1');
    await h.sync();
    await Promise.all(steps);
    expect(h.sent).toEqual(['JOB j2', 'DATA_ACK j1', 'JOB j3']);
  });

  it('stops the master, sending nothing, when a message names a record its step did not persist', async () => {
    const h = harness();
    const step = h.run([persist(assign('j2')), jobMsg('j2', [assign('j2')])]);
    await h.sync();
    await step;
    expect(h.sent).toEqual([]);
    expect(h.failures.map((e) => (e as Error).message)).toEqual([
      'a publish names a record its step did not persist before it: assign',
    ]);
  });

  it('stops the master when a results file cannot be written; later records of that job never land', async () => {
    const h = harness();
    const step1 = h.run([finish('j1'), persist(status('j1')), ack('j1', { job: 'j1' })]);
    const step2 = h.run([persist(assign('j2'))]);
    const step3 = h.run([persist({ t: 'cutoff', job: 'j1', attempt: 1, reason: 'x' })]);
    await h.fileFailed('j1', new Error('disk full'));
    await h.sync();
    await Promise.all([step1, step2, step3]);
    expect(h.failures.map((e) => (e as Error).message)).toEqual(['disk full', 'disk full']);
    expect(h.issued).toEqual(['assign j2']);
    expect(h.sent).toEqual([]);
  });
});
