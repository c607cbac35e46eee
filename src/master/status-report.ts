import type { Logger } from '../log.ts';
import type { Status, StatusWorker } from '../protocol/messages/status.ts';
import { nextRuns } from './core/on-schedules.ts';
import type { MasterState } from './core/state.ts';
import type { WorkerEntry } from './core/types.ts';
import { ProgressMeter, type Progress } from './progress.ts';

/** Keeps S_STATUS well under the 1 MiB payload limit whatever the size of the mesh. */
export const MAX_STATUS_WORKERS = 1000;
const MAX_NEXT_RUNS = 1000;

export interface StatusReporterOptions {
  masterId: string;
  helloIntervalMs: number;
  state: MasterState;
  /** Ended attempts not yet in InfluxDB. */
  backlog: () => number;
  logger: Logger;
  /** How often a run in progress is summed up in the log. */
  logEveryMs?: number;
}

/**
 * Builds the master's S_STATUS each hello round, and, while jobs remain, logs a progress line
 * (done/total, rate, ETA) now and then: the same numbers `scanmesh status` shows.
 */
export class StatusReporter {
  private readonly meter = new ProgressMeter();
  private lastLogAt = -Infinity;

  constructor(private readonly o: StatusReporterOptions) {}

  round(now: number): Status {
    const s = this.o.state;
    const jobs = s.counts();
    const ended = jobs.done + jobs.failed;
    const progress = this.meter.sample(now, ended, ended + jobs.pending + jobs.running);
    this.maybeLog(now, progress, jobs.failed);
    const workers = [...s.workers.values()].sort(byInterest);
    return {
      kind: 'S_STATUS',
      master: this.o.masterId,
      ts: now,
      round: s.round,
      helloIntervalS: this.o.helloIntervalMs / 1000,
      workers: workers.slice(0, MAX_STATUS_WORKERS).map(statusOf),
      workersOmitted: Math.max(0, workers.length - MAX_STATUS_WORKERS),
      jobs,
      backlog: this.o.backlog(),
      progress,
      nextRuns: nextRuns(s.schedules, MAX_NEXT_RUNS),
    };
  }

  private maybeLog(now: number, p: Progress, failed: number): void {
    if (p.ended >= p.total || now - this.lastLogAt < (this.o.logEveryMs ?? 60_000)) return;
    this.lastLogAt = now;
    this.o.logger.info(
      { done: p.ended, total: p.total, failed, perMinute: p.perMinute, etaS: p.etaS },
      `progress ${p.ended}/${p.total}${p.etaS === null ? '' : `, about ${formatDuration(p.etaS)} left`}`,
    );
  }
}

const RANK = { ACTIVE: 0, WAITING: 1, INACTIVE: 2 } as const;

/** Active workers first, then waiting, then inactive; by id within each. */
function byInterest(a: WorkerEntry, b: WorkerEntry): number {
  return RANK[a.state] - RANK[b.state] || a.id.localeCompare(b.id);
}

function statusOf(w: WorkerEntry): StatusWorker {
  return {
    id: w.id,
    state: w.state,
    counter: w.counter,
    slots: Math.max(1, Math.min(64, w.slots)),
    nmap: w.nmap.slice(0, 256),
    running: [...w.running].slice(0, 64).map(([job, attempt]) => ({ job, attempt })),
    lastSeen: Math.max(0, Math.round(w.lastSeen)),
    jobsDone: w.jobsDone,
    jobsFailed: w.jobsFailed,
  };
}

/** 3725 → "1h 2m"; 42 → "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
