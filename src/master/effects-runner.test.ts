import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { Effect, MasterRecord } from './core/types.ts';
import { journalOrder, runEffects, type EffectPorts } from './effects-runner.ts';

const persist = (record: MasterRecord): Effect => ({ type: 'persist', record });
const assign = (job: string, attempt: number): MasterRecord => ({
  t: 'assign',
  job,
  attempt,
  worker: 'w1',
  deadline: 0,
});
const filed = { job: 'j1', attempt: 1 } as AttemptRecord;
const ack: Effect = {
  type: 'publish',
  out: {
    to: 'w1',
    channel: 'ack',
    message: { kind: 'DATA_ACK', job: 'j1', attempt: 1, seq: 0, outcome: 'stored' },
  },
};

/** A journal that records what lands in it, and a results-file write the test lets finish. */
function harness() {
  const journal: string[] = [];
  const published: string[] = [];
  let fileWritten: () => void = () => undefined;
  const file = new Promise<void>((resolve) => (fileWritten = resolve));
  const ports: EffectPorts = {
    order: journalOrder(),
    append: async (records) => {
      for (const r of records) journal.push(`${r.t} ${'job' in r ? r.job : ''}`);
    },
    fileResult: () => file,
    ended: async (record) => void journal.push(`ended ${record.job}`),
    publish: (out) => void published.push(out.channel),
    workerChanged: () => undefined,
    logger: createLogger({ level: 'silent' }),
    fatal: (err) => {
      throw err;
    },
  };
  return { journal, published, ports, fileWritten: () => fileWritten() };
}

describe('effects runner', () => {
  it('a later step never gets its records into the journal before an earlier step waiting on a file', async () => {
    const h = harness();
    // Step 1, a job's end part: its record, the ack, the filed attempt, then (in the core's order)
    // the job's status and the next assignment, j2 attempt 1 to w1.
    const step1 = runEffects(
      [
        persist({ t: 'end', job: 'j1', attempt: 1, worker: 'w1', end: {} as never }),
        ack,
        { type: 'finish', record: filed, hosts: [] },
        persist({ t: 'status', job: 'j1', status: 'done', reason: '' }),
        persist(assign('j2', 1)),
      ],
      h.ports,
    );
    // Step 2, while the results file is still being written: a CL_HELLO without j2 cuts it off.
    const step2 = runEffects(
      [persist({ t: 'cutoff', job: 'j2', attempt: 1, reason: 'lost' })],
      h.ports,
    );
    await new Promise((r) => setTimeout(r, 20));
    h.fileWritten();
    await Promise.all([step1, step2]);
    // Replayed in this order, j2's attempt 1 ends up cut off, as it was; the other way round it
    // would come back to life after a restart.
    expect(h.journal).toEqual(['end j1', 'ended j1', 'status j1', 'assign j2', 'cutoff j2']);
  });

  it('steps without a file in between still share one journal write (group commit)', async () => {
    const h = harness();
    const issued: string[] = [];
    let synced: () => void = () => undefined;
    const fsync = new Promise<void>((resolve) => (synced = resolve));
    h.ports.append = (records) => {
      issued.push(...records.map((r) => ('job' in r ? r.job : '')));
      return fsync;
    };
    const steps = [1, 2, 3].map((n) => runEffects([persist(assign(`j${n}`, 1)), ack], h.ports));
    await new Promise((r) => setTimeout(r, 20));
    // All three appends are issued while the first is not yet durable, and no ack went out.
    expect(issued).toEqual(['j1', 'j2', 'j3']);
    expect(h.published).toEqual([]);
    synced();
    await Promise.all(steps);
    expect(h.published).toEqual(['ack', 'ack', 'ack']);
  });

  it('a step with a file issues all its records without waiting for an fsync in between', async () => {
    const h = harness();
    const issued: string[] = [];
    let synced: () => void = () => undefined;
    const fsync = new Promise<void>((resolve) => (synced = resolve));
    h.ports.append = (records) => {
      issued.push(...records.map((r) => `${r.t} ${'job' in r ? r.job : ''}`));
      return fsync;
    };
    h.ports.ended = (record) => {
      issued.push(`ended ${record.job}`);
      return fsync;
    };
    const step1 = runEffects(
      [
        persist({ t: 'end', job: 'j1', attempt: 1, worker: 'w1', end: {} as never }),
        ack,
        { type: 'finish', record: filed, hosts: [] },
        persist({ t: 'status', job: 'j1', status: 'done', reason: '' }),
      ],
      h.ports,
    );
    const step2 = runEffects([persist(assign('j2', 1)), ack], h.ports);
    h.fileWritten();
    await new Promise((r) => setTimeout(r, 20));
    // Both steps' records are issued, in step order, while nothing is durable yet: one fsync
    // can carry them all. No ack has gone out.
    expect(issued).toEqual(['end j1', 'ended j1', 'status j1', 'assign j2']);
    expect(h.published).toEqual([]);
    synced();
    await Promise.all([step1, step2]);
    expect(h.published).toEqual(['ack', 'ack']);
  });

  it('stops the master when a results file cannot be written, and lets later steps go on', async () => {
    const h = harness();
    const failures: unknown[] = [];
    h.ports.fatal = (err) => void failures.push(err);
    h.ports.fileResult = () => Promise.reject(new Error('disk full'));
    const step1 = runEffects([{ type: 'finish', record: filed, hosts: [] }, ack], h.ports);
    const step2 = runEffects([persist(assign('j2', 1))], h.ports);
    await Promise.all([step1, step2]);
    expect(failures.map((e) => (e as Error).message)).toEqual(['disk full']);
    expect(h.journal).toEqual(['assign j2']);
    expect(h.published).toEqual([]);
  });
});
