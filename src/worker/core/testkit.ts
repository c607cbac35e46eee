import type { NmapOutcome } from '../../nmap/runner.ts';
import type { Job } from '../../protocol/messages/job.ts';

/** What the worker core's tests hand it: made-up clocks, jobs and nmap outcomes. */

export const T0 = 1_700_000_000_000;

let lastStamp = 0;

/** Each job with a stamp above the ones before, as a master gives them. */
export const testJob = (id = 'j1', attempt = 1, stamp = ++lastStamp): Job => ({
  kind: 'JOB',
  job: id,
  attempt,
  stamp,
  args: ['-sT', '127.0.0.1'],
  timeoutS: 60,
});

/** nmap exited cleanly one second after T0 having reported `hostCount` hosts. */
export const completed = (hostCount: number): NmapOutcome => ({
  status: 'completed',
  exitCode: 0,
  error: '',
  code: '',
  meta: null,
  stats: null,
  startedAt: T0,
  finishedAt: T0 + 1000,
  hostCount,
});
