import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ProgressMeter } from './progress.ts';
import { MasterState } from './core/state.ts';
import type { JobEntry } from './core/types.ts';
import { formatDuration, StatusReporter } from './status-report.ts';
import { decode, encode } from '../protocol/codec.ts';

const MIN = 60_000;

describe('ProgressMeter', () => {
  it('knows no rate from one sample, then measures jobs per minute and the time left', () => {
    const m = new ProgressMeter(10 * MIN);
    expect(m.sample(0, 0, 100)).toEqual({ ended: 0, total: 100, perMinute: null, etaS: null });
    expect(m.sample(MIN, 5, 100)).toEqual({ ended: 5, total: 100, perMinute: 5, etaS: 19 * 60 });
    expect(m.sample(2 * MIN, 20, 100)).toEqual({ ended: 20, total: 100, perMinute: 10, etaS: 480 });
  });

  it('follows the recent rate: samples older than the window stop counting', () => {
    const m = new ProgressMeter(2 * MIN);
    m.sample(0, 0, 1000);
    m.sample(MIN, 100, 1000); // fast start: 100/min
    m.sample(2 * MIN, 200, 1000);
    m.sample(3 * MIN, 210, 1000); // slowed down: 10/min
    const p = m.sample(4 * MIN, 220, 1000);
    expect(p.perMinute).toBe(10); // (220 - 200) over the last 2 minutes
    expect(p.etaS).toBe(78 * 60);
  });

  it('says 0 s when all have ended, and no ETA when nothing moves', () => {
    const m = new ProgressMeter();
    m.sample(0, 3, 5);
    expect(m.sample(MIN, 3, 5)).toMatchObject({ perMinute: 0, etaS: null });
    expect(m.sample(2 * MIN, 5, 5)).toMatchObject({ etaS: 0 });
  });

  it('starts over when the count goes down', () => {
    const m = new ProgressMeter();
    m.sample(0, 50, 100);
    expect(m.sample(MIN, 10, 60)).toMatchObject({ perMinute: null });
  });
});

describe('StatusReporter', () => {
  it('builds a valid S_STATUS: workers active first, counts, progress, and logs progress', () => {
    const state = new MasterState();
    const idle = state.newWorker('pi-b', 1000);
    const busy = state.newWorker('pi-c', 2000);
    busy.state = 'ACTIVE';
    busy.running.set('j-abc-1', 2);
    const gone = state.newWorker('pi-a', 500);
    gone.state = 'INACTIVE';
    gone.counter = 3;
    idle.jobsDone = 4;
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l)) },
    );
    const reporter = new StatusReporter({
      masterId: 'm1',
      helloIntervalMs: 5000,
      state,
      backlog: () => 7,
      logger,
    });
    const s = reporter.round(10_000);
    // What the master publishes must pass the schema every reader validates with.
    expect(decode(encode(s), ['S_STATUS'])).toEqual(s);
    expect(s.workers.map((w) => [w.id, w.state])).toEqual([
      ['pi-c', 'ACTIVE'],
      ['pi-b', 'WAITING'],
      ['pi-a', 'INACTIVE'],
    ]);
    expect(s.workers[0]!.running).toEqual([{ job: 'j-abc-1', attempt: 2 }]);
    expect(s).toMatchObject({ master: 'm1', helloIntervalS: 5, backlog: 7, nextRuns: [] });
    expect(s.jobs).toEqual({ pending: 0, running: 0, done: 0, failed: 0, removed: 0 });
    // Nothing to do, nothing logged.
    expect(lines.filter((l) => String(l.msg).startsWith('progress'))).toEqual([]);
  });
});

describe('StatusReporter progress log', () => {
  it('logs done/total, rate and ETA at most once per interval while jobs remain', () => {
    const state = new MasterState();
    const job = (id: string, status: JobEntry['status']) =>
      state.jobs.set(id, { id, status } as JobEntry);
    for (let i = 0; i < 10; i += 1) job(`j-${i}`, 'pending');
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l)) },
    );
    const reporter = new StatusReporter({
      masterId: 'm',
      helloIntervalMs: 5000,
      state,
      backlog: () => 0,
      logger,
      logEveryMs: MIN,
    });
    reporter.round(0);
    job('j-0', 'done');
    job('j-1', 'failed');
    reporter.round(30_000); // within the interval: no second line
    const s = reporter.round(MIN);
    expect(s.progress).toEqual({ ended: 2, total: 10, perMinute: 2, etaS: 240 });
    const progress = lines.filter((l) => String(l.msg).startsWith('progress'));
    expect(progress.map((l) => l.msg)).toEqual([
      'progress 0/10',
      'progress 2/10, about 4m 0s left',
    ]);
    expect(progress[1]).toMatchObject({ done: 2, total: 10, failed: 1, perMinute: 2, etaS: 240 });
  });
});

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect([42, 125, 3725, 200_000].map(formatDuration)).toEqual([
      '42s',
      '2m 5s',
      '1h 2m',
      '2d 7h',
    ]);
  });
});
