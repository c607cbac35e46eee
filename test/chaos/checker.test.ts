import { describe, expect, it } from 'vitest';
import { check, type Evidence } from './checker.ts';
import { fakeJobs } from './commands.ts';
import { seededRng } from './rng.ts';

/** What a perfect run leaves behind for these jobs: the checker's "all good" baseline. */
function perfectRun(): Evidence {
  const jobs = fakeJobs(40, 4, seededRng(11));
  const e: Evidence = {
    jobs,
    journal: { known: new Set(jobs.map((j) => j.id)), final: new Map(), outbox: 0 },
    results: { completed: new Map(), dead: 0 },
    spools: new Map([
      ['w1', 0],
      ['w2', 0],
    ]),
    scans: [],
    hosts: [],
    ports: [],
  };
  jobs.forEach((job, n) => {
    const time = String(1_795_000_000_000_000_000n + BigInt(n) * 1000n + 1n);
    if (job.poison) {
      e.journal.final.set(job.id, { status: 'failed', reason: 'gave up after 3 attempts' });
      e.scans.push({ job: job.id, attempt: 3, status: 'failed', error: 'crashed', time });
      return;
    }
    e.journal.final.set(job.id, { status: 'done', reason: '' });
    e.results.completed.set(job.id, [1]);
    e.scans.push({ job: job.id, attempt: 1, status: 'completed', error: '', time });
    for (const [host, open] of job.expected) {
      e.hosts.push({ job: job.id, host, worker: 'w1', time });
      for (const port of open) e.ports.push({ job: job.id, host, port, open: 1, time });
    }
  });
  return e;
}

describe('the chaos checker', () => {
  const normal = (e: Evidence) => e.jobs.find((j) => !j.poison && j.expected.size > 0)!;

  it('passes a run where every job ended exactly once', () => {
    const v = check(perfectRun());
    expect(v).toMatchObject({ jobs: 40, completed: 36, failed: 4, lost: 0, duplicated: 0 });
    expect(v.problems).toEqual([]);
  });

  it('counts a job whose scan point is missing as lost', () => {
    const e = perfectRun();
    const job = normal(e);
    e.scans = e.scans.filter((r) => r.job !== job.id);
    expect(check(e)).toMatchObject({ lost: 1, duplicated: 0 });
  });

  it('counts a job the master never finished, or lost a host of, as lost', () => {
    const e = perfectRun();
    const [a, b] = e.jobs.filter((j) => !j.poison);
    e.journal.final.delete(a!.id);
    e.hosts = e.hosts.filter((r) => r.job !== b!.id);
    expect(check(e)).toMatchObject({ lost: 2 });
  });

  it('counts a second completed attempt, a doubled host point or a second filed result as duplicated', () => {
    const e = perfectRun();
    const [a, b, c] = e.jobs.filter((j) => !j.poison);
    const scanA = e.scans.find((r) => r.job === a!.id)!;
    e.scans.push({ ...scanA, attempt: 2, time: `${scanA.time}2` });
    const hostB = e.hosts.find((r) => r.job === b!.id)!;
    e.hosts.push({ ...hostB, worker: 'w2' });
    e.results.completed.set(c!.id, [1, 2]);
    expect(check(e)).toMatchObject({ lost: 0, duplicated: 3 });
  });

  it('flags wrong ports, a completed poison line, leftovers in a spool or the outbox', () => {
    const e = perfectRun();
    e.ports.pop();
    const poison = e.jobs.find((j) => j.poison)!;
    e.journal.final.set(poison.id, { status: 'done', reason: '' });
    e.scans.push({ job: poison.id, attempt: 1, status: 'completed', error: '', time: '1' });
    e.spools.set('w2', 3);
    e.journal.outbox = 1;
    const v = check(e);
    expect(v).toMatchObject({ lost: 0, duplicated: 0 });
    expect(v.problems).toHaveLength(4);
    expect(v.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^poison .* \(crash\) completed$/),
        expect.stringMatching(/: open ports .*, expected /),
        'worker w2 still spools 3 unacknowledged parts',
        'master outbox still holds 1 results',
      ]),
    );
  });
});
