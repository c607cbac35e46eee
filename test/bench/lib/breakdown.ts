import type { BenchMesh } from './mesh.ts';
import type { HostReport } from './workers.ts';
import { fmtMs, median } from './stats.ts';

/**
 * Where each job's time went, from the master's and the workers' timestamps (one host, one
 * clock): the master's assignment → JOB at the worker → nmap's exit → end part at the master's
 * core → result filed. Medians and maxima, for the log. The first leg also shows its part in the
 * master: until the JOB was handed to the broker client (its assign record durable, signed).
 */
export function breakdown(mesh: BenchMesh, reports: readonly HostReport[]): string {
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
    if (!run || assigned === undefined || end === undefined) continue;
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
