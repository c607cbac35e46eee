import { describe, expect, it } from 'vitest';
import type { ClHello } from '../../protocol/messages/cl-hello.ts';
import type { DataEnd } from '../../protocol/messages/data.ts';
import { endPart } from '../../../test/harness/spool-fixtures.ts';
import { nextRuns } from './on-schedules.ts';
import { MasterCore } from './master-core.ts';
import type { CommandEntry, Effect, MasterRecord } from './types.ts';

const T0 = 1_700_000_000_000;
const LINE = 'j-0123456789ab-1';

function recurring(spec: string, blocks = 1): CommandEntry[] {
  const one = (id: string, parent?: string): CommandEntry => ({
    id,
    command: `-sT -p 80 127.0.0.1`,
    args: ['-sT', '-p', '80', '127.0.0.1'],
    timeoutS: 60,
    ...(parent ? { parent } : {}),
    schedule: { line: LINE, spec },
  });
  if (blocks === 1) return [one(LINE)];
  return Array.from({ length: blocks }, (_, k) => one(`${LINE}.${k + 1}`, LINE));
}

function hello(worker: string, slots = 1): ClHello {
  return { kind: 'CL_HELLO', worker, nmap: '7.93', slots, running: [], held: [] };
}

/** The end part of attempt 1 of `job`, with no hosts, as `worker` sends it at `at`. */
function end(worker: string, job: string, at: number): DataEnd {
  return { ...endPart(0, job), worker, startedAt: at, finishedAt: at };
}

const jobsSent = (fx: Effect[]) =>
  fx.flatMap((e) => (e.type === 'publish' && e.out.channel === 'jobs' ? [e.out.message] : []));
const logged = (fx: Effect[], msg: string) =>
  fx.flatMap((e) => (e.type === 'log' && e.msg === msg ? [e.data] : []));

/** A core that keeps every record it persists, as the journal would. */
function journaled(): {
  core: MasterCore;
  records: MasterRecord[];
  run: (fx: Effect[]) => Effect[];
} {
  const core = new MasterCore();
  const records: MasterRecord[] = [];
  const run = (fx: Effect[]) => {
    for (const e of fx) if (e.type === 'persist') records.push(e.record);
    return fx;
  };
  return { core, records, run };
}

describe('recurring lines', () => {
  it('@every runs at once, then every interval, each run a job of its own', () => {
    const { core, run } = journaled();
    run(core.clHello(hello('w1'), T0));
    const first = run(core.commands(recurring('@every 10s'), T0));
    expect(jobsSent(first)).toEqual([expect.objectContaining({ kind: 'JOB', job: `${LINE}-r1` })]);
    expect(core.state.jobs.has(LINE)).toBe(false);
    run(core.data(end('w1', `${LINE}-r1`, T0 + 2000), T0 + 2000));
    expect(jobsSent(run(core.helloRound(T0 + 5000)))).toEqual([]);
    const second = run(core.helloRound(T0 + 10_000));
    expect(jobsSent(second)).toEqual([expect.objectContaining({ job: `${LINE}-r2` })]);
    expect(core.state.jobs.get(`${LINE}-r2`)?.run).toEqual({ line: LINE, k: 2, at: T0 + 10_000 });
    expect(nextRuns(core.state.schedules, 10)).toEqual([
      { job: LINE, command: '@every 10s -sT -p 80 127.0.0.1', at: T0 + 20_000 },
    ]);
  });

  it('never overlaps itself: a due run waits for the previous one, then keeps to its slots', () => {
    const { core, run } = journaled();
    run(core.clHello(hello('w1', 2), T0));
    run(core.commands(recurring('@every 10s'), T0));
    const due = run(core.helloRound(T0 + 10_000));
    expect(jobsSent(due)).toEqual([]);
    expect(logged(due, 'recurring run due; waiting for the previous run to end')).toHaveLength(1);
    expect(
      logged(
        run(core.helloRound(T0 + 15_000)),
        'recurring run due; waiting for the previous run to end',
      ),
    ).toEqual([]);
    run(core.data(end('w1', `${LINE}-r1`, T0 + 16_000), T0 + 16_000));
    run(core.clHello(hello('w1', 2), T0 + 16_500));
    const late = run(core.helloRound(T0 + 17_000));
    expect(jobsSent(late)).toEqual([expect.objectContaining({ job: `${LINE}-r2` })]);
    // Slots stay on the anchor's grid: the missed 10 s slot is not made up, the next is at 20 s.
    expect(core.state.schedules.get(LINE)?.nextAt).toBe(T0 + 20_000);
  });

  it('names split blocks per run under the run, and a removed line withdraws its pending run', () => {
    const { core, run } = journaled();
    const fx = run(core.commands(recurring('@every 1h', 3), T0));
    expect(logged(fx, 'job queued').map((d) => d.job)).toEqual([
      `${LINE}-r1.1`,
      `${LINE}-r1.2`,
      `${LINE}-r1.3`,
    ]);
    expect(core.state.children.get(`${LINE}-r1`)).toEqual([
      `${LINE}-r1.1`,
      `${LINE}-r1.2`,
      `${LINE}-r1.3`,
    ]);
    const removed = run(core.commands([], T0 + 1000));
    expect(core.state.schedules.size).toBe(0);
    expect([...core.state.jobs.values()].map((j) => j.status)).toEqual([
      'removed',
      'removed',
      'removed',
    ]);
    expect(removed.some((e) => e.type === 'persist' && e.record.t === 'unschedule')).toBe(true);
  });

  it('a line removed and put back numbers its runs after the earlier ones, also after a restart', () => {
    const { core, records, run } = journaled();
    run(core.clHello(hello('w1'), T0));
    run(core.commands(recurring('@every 1h'), T0));
    run(core.data(end('w1', `${LINE}-r1`, T0 + 1000), T0 + 1000));
    run(core.commands([], T0 + 2000));
    // Put back before any run of it: a restart then must not number the next run 1 either.
    run(core.commands(recurring('@every 1h'), T0 + 3000));
    const restarted = new MasterCore();
    restarted.restore(records, T0 + 4000);
    for (const c of [core, restarted]) {
      expect(c.state.schedules.get(LINE)?.runs).toBe(2);
      expect(c.state.jobs.get(`${LINE}-r1`)?.status).toBe('done');
      expect(c.state.jobs.get(`${LINE}-r2`)?.status).toMatch(/pending|running/);
    }
  });

  it('a restarted master neither repeats a run nor forgets when the next is due', () => {
    const { core, records, run } = journaled();
    run(core.clHello(hello('w1'), T0));
    run(core.commands(recurring('@every 10s'), T0));
    run(core.data(end('w1', `${LINE}-r1`, T0 + 1000), T0 + 1000));
    run(core.helloRound(T0 + 10_000));

    for (const restart of [records, core.snapshot()]) {
      const again = new MasterCore();
      again.restore(restart, T0 + 12_000);
      const s = again.state.schedules.get(LINE);
      expect(s).toMatchObject({ runs: 2, current: [`${LINE}-r2`], nextAt: T0 + 20_000 });
      // The file read again on start changes nothing.
      const fx = again.commands(recurring('@every 10s'), T0 + 12_000);
      expect(logged(fx, 'job queued')).toEqual([]);
    }
  });

  it('a master down across several slots runs once on start, then keeps to the grid', () => {
    const { core, records, run } = journaled();
    run(core.clHello(hello('w1'), T0));
    run(core.commands(recurring('@every 10s'), T0));
    run(core.data(end('w1', `${LINE}-r1`, T0 + 1000), T0 + 1000));
    const again = new MasterCore();
    again.restore(records, T0 + 95_000);
    again.clHello(hello('w1'), T0 + 95_000);
    const fx = again.helloRound(T0 + 95_000);
    expect(logged(fx, 'job queued').map((d) => d.job)).toEqual([`${LINE}-r2`]);
    expect(again.state.schedules.get(LINE)?.nextAt).toBe(T0 + 100_000);
  });

  it('@cron waits for its first time instead of running when the line is added', () => {
    const core = new MasterCore();
    const fx = core.commands(recurring('@cron "*/30 * * * * *"'), T0 + 1000);
    expect(logged(fx, 'job queued')).toEqual([]);
    const next = core.state.schedules.get(LINE)?.nextAt ?? 0;
    expect(next).toBeGreaterThan(T0 + 1000);
    expect(next % 30_000).toBe(0);
    expect(logged(core.helloRound(next), 'job queued').map((d) => d.job)).toEqual([`${LINE}-r1`]);
  });
});
