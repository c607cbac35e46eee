import { readFileSync } from 'node:fs';
import type { BenchMesh } from './mesh.ts';
import type { HostReport } from './workers.ts';
import { fmtMs, median } from './stats.ts';

/**
 * Where each job's time went, from the master's and the workers' timestamps (one host, one
 * clock): the master's assignment → JOB at the worker → nmap's exit → end part at the master's
 * core → result filed. Medians and maxima, for the log. The first leg also shows its part in the
 * master: until the JOB was handed to the broker client (its assign record durable, signed).
 * Jobs in `leaveOut` (a warm-up, say) are not counted.
 */
export function breakdown(
  mesh: BenchMesh,
  reports: readonly HostReport[],
  leaveOut: ReadonlySet<string> = new Set(),
): string {
  const runs = Object.assign({}, ...reports.map((r) => r.runs)) as HostReport['runs'];
  const legs: Record<string, number[]> = {
    'assigned → JOB sent by the master': [],
    'assigned → JOB at worker': [],
    'JOB → nmap exit': [],
    'exit → end part at master': [],
    'end part → filed': [],
  };
  const [sent, dispatch, nmap, back, master] = Object.values(legs) as [
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  // Epoch ms of the workers, on this process's performance.now() scale.
  const local = (epoch: number) => epoch - performance.timeOrigin;
  for (const [job, filed] of mesh.finished) {
    const run = runs[job];
    const assigned = mesh.assigned.get(`${job}#1`);
    const end = mesh.endAt.get(job);
    if (leaveOut.has(job) || !run || assigned === undefined || end === undefined) continue;
    const handed = mesh.sent.get(`${job}#1`);
    if (handed !== undefined) sent.push(handed - assigned);
    dispatch.push(local(run.received) - assigned);
    nmap.push(run.ran - run.received);
    back.push(end - local(run.ran));
    master.push(filed - end);
  }
  return Object.entries(legs)
    .map(([leg, ms]) => `${leg} ${fmtMs(median(ms))} (max ${fmtMs(Math.max(...ms))})`)
    .join(', ');
}

export interface CpuWindow {
  /** What the window cost per job, for the log; '' where /proc cannot be read (not Linux). */
  stop(jobs: number): string;
}

/**
 * The CPU that this process (master and broker), the worker processes and the programs they ran
 * (nmap, reaped) used over a window, per job, and how busy the machine's cores were meanwhile.
 * Workers on a machine each stand for a machine of their own, so a figure whose cores were
 * saturated by its workers' own work says so here.
 */
export function cpuWindow(workerPids: readonly number[]): CpuWindow {
  const read = () => {
    try {
      return { workers: workerPids.map(processTicks), machine: machineTicks() };
    } catch {
      return null;
    }
  };
  const master = process.cpuUsage();
  const before = read();
  return {
    stop(jobs) {
      const after = read();
      if (!before || !after) return '';
      const used = process.cpuUsage(master);
      const sum = (pick: (t: ProcessTicks) => number, of: { workers: ProcessTicks[] }) =>
        of.workers.reduce((s, t) => s + pick(t), 0);
      const ownTicks = sum((t) => t.own, after) - sum((t) => t.own, before);
      const reapedTicks = sum((t) => t.reaped, after) - sum((t) => t.reaped, before);
      const busy = after.machine.busy - before.machine.busy;
      const total = after.machine.total - before.machine.total;
      const perJob = (ms: number) => `${(ms / jobs).toFixed(2)} ms`;
      return (
        `CPU per job: master process (broker included) ${perJob((used.user + used.system) / 1000)}, ` +
        `worker processes ${perJob(ownTicks * MS_PER_TICK)}, ` +
        `their nmaps ${perJob(reapedTicks * MS_PER_TICK)}; ` +
        `machine's cores busy ${total > 0 ? ((busy / total) * 100).toFixed(0) : '?'} %`
      );
    },
  };
}

/** /proc reports CPU in USER_HZ ticks, which Linux fixes at 100 a second for user space. */
export const MS_PER_TICK = 10;

export interface ProcessTicks {
  /** utime + stime. */
  own: number;
  /** cutime + cstime: children it waited for, and theirs. */
  reaped: number;
}

export function processTicks(pid: number): ProcessTicks {
  // The command name, in parentheses, may hold spaces: fields are counted after its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Fields 14–17 of proc(5) (utime, stime, cutime, cstime); this array starts at field 3.
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = f.slice(11, 15);
  return { own: utime + stime, reaped: cutime + cstime };
}

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = cpu.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th columns.
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}
