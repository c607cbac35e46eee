import type { InfluxDB, INanoDate } from 'influx';
import type { JobSpec } from './commands.ts';
import type { MasterJournalFacts, MasterResultFacts } from './disk-state.ts';

/**
 * "Nothing lost, nothing written twice", decided from what the mesh left behind: InfluxDB's
 * `scan`, `host` and `port` points, the master's journal and results, the workers' spools.
 * `check` is pure, so it can be shown to fail on evidence damaged on purpose.
 */

export interface ScanRow {
  job: string;
  attempt: number;
  status: string;
  error: string;
  /** InfluxDB time, nanoseconds as a decimal string. */
  time: string;
}

export interface HostRow {
  job: string;
  host: string;
  worker: string;
  time: string;
}

export interface PortRow {
  job: string;
  host: string;
  port: number;
  open: number;
  time: string;
}

export interface InfluxFacts {
  scans: ScanRow[];
  hosts: HostRow[];
  ports: PortRow[];
}

export interface Evidence extends InfluxFacts {
  jobs: readonly JobSpec[];
  journal: MasterJournalFacts;
  results: MasterResultFacts;
  /** Worker id → DATA parts still in its spool. */
  spools: Map<string, number>;
}

export interface Verdict {
  jobs: number;
  completed: number;
  failed: number;
  /** Jobs that neither completed with all their results in InfluxDB nor failed with a reason. */
  lost: number;
  /** Jobs with more than one completed attempt written, or a host written twice. */
  duplicated: number;
  /** Everything else that is wrong, one line each; lost and duplicated jobs are named here too. */
  problems: string[];
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

export function check(e: Evidence): Verdict {
  const v: Verdict = {
    jobs: e.jobs.length,
    completed: 0,
    failed: 0,
    lost: 0,
    duplicated: 0,
    problems: [],
  };
  const scans = groupBy(e.scans, (r) => r.job);
  const hosts = groupBy(e.hosts, (r) => r.job);
  const ports = groupBy(e.ports, (r) => `${r.job} ${r.host}`);
  const lost = (id: string, why: string) => {
    v.lost += 1;
    v.problems.push(`lost ${id}: ${why}`);
  };

  for (const job of e.jobs) {
    const completedScans = (scans.get(job.id) ?? []).filter((r) => r.status === 'completed');
    const hostRows = groupBy(hosts.get(job.id) ?? [], (r) => r.host);
    const twice = [
      completedScans.length > 1 && `${completedScans.length} completed scan points`,
      [...hostRows].some(([, rows]) => rows.length > 1) && 'a host point written twice',
      (e.results.completed.get(job.id)?.length ?? 0) > 1 &&
        `completed attempts ${e.results.completed.get(job.id)?.join(', ')} filed`,
    ].filter(Boolean);
    if (twice.length > 0) {
      v.duplicated += 1;
      v.problems.push(`duplicated ${job.id}: ${twice.join('; ')}`);
    }

    const final = e.journal.final.get(job.id);
    if (!final) {
      lost(job.id, e.journal.known.has(job.id) ? 'never ended' : 'the master never queued it');
      continue;
    }
    if (final.status === 'failed') {
      v.failed += 1;
      if (!final.reason) v.problems.push(`${job.id} failed without a reason`);
      if (completedScans.length > 0) v.problems.push(`${job.id} failed, yet has completed results`);
      const recorded = (scans.get(job.id) ?? []).some((r) => r.status !== 'completed' && r.error);
      if (job.poison && !recorded) {
        v.problems.push(`poison ${job.id} (${job.poison}) failed without a failed scan point`);
      }
      continue;
    }
    if (final.status !== 'done') {
      lost(job.id, `ended ${final.status}: ${final.reason}`);
      continue;
    }
    if (job.poison) v.problems.push(`poison ${job.id} (${job.poison}) completed`);
    if (completedScans.length === 0) {
      lost(job.id, 'done, but no completed scan point in InfluxDB');
      continue;
    }
    const missing = [...job.expected.keys()].filter((h) => !hostRows.has(h));
    if (missing.length > 0) {
      lost(job.id, `done, but no host point for ${missing.join(', ')}`);
      continue;
    }
    v.completed += 1;
    for (const h of hostRows.keys()) {
      if (!job.expected.has(h)) v.problems.push(`${job.id}: unexpected host ${h}`);
    }
    for (const [h, want] of job.expected) {
      const open = (ports.get(`${job.id} ${h}`) ?? [])
        .filter((p) => p.open === 1)
        .map((p) => p.port)
        .sort((a, b) => a - b);
      if (!sameList(open, want)) {
        v.problems.push(`${job.id} ${h}: open ports ${open.join(',')}, expected ${want.join(',')}`);
      }
    }
  }

  const ids = new Set(e.jobs.map((j) => j.id));
  for (const id of scans.keys())
    if (!ids.has(id)) v.problems.push(`scan points for unknown job ${id}`);
  for (const [worker, parts] of e.spools) {
    if (parts > 0) v.problems.push(`worker ${worker} still spools ${parts} unacknowledged parts`);
  }
  if (e.journal.outbox > 0)
    v.problems.push(`master outbox still holds ${e.journal.outbox} results`);
  if (e.results.dead > 0) v.problems.push(`master set ${e.results.dead} results aside in dead/`);
  return v;
}

const nanos = (t: unknown) => (t as INanoDate).getNanoTime();

/** Every scan, host and port point, with the fields the check needs. */
export async function readInflux(influx: InfluxDB): Promise<InfluxFacts> {
  // InfluxQL needs at least one field in a SELECT; tags ride along.
  const [scans, hosts, ports] = await Promise.all([
    influx.query<Record<string, unknown>>('SELECT "job", "attempt", "error", "status" FROM "scan"'),
    influx.query<Record<string, unknown>>('SELECT "job", "host", "worker" FROM "host"'),
    influx.query<Record<string, unknown>>('SELECT "job", "open", "host", "port" FROM "port"'),
  ]);
  return {
    scans: scans.map((r) => ({
      job: r.job as string,
      attempt: Number(r.attempt),
      status: r.status as string,
      error: (r.error as string) ?? '',
      time: nanos(r.time),
    })),
    hosts: hosts.map((r) => ({
      job: r.job as string,
      host: r.host as string,
      worker: r.worker as string,
      time: nanos(r.time),
    })),
    ports: ports.map((r) => ({
      job: r.job as string,
      host: r.host as string,
      port: Number(r.port),
      open: Number(r.open),
      time: nanos(r.time),
    })),
  };
}
