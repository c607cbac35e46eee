import { z } from 'zod';
import { jobId, jobRef, shortText, workerId } from './common.ts';

const count = z.number().int().min(0);

/** One worker as the master sees it. Times are epoch milliseconds. */
export const statusWorker = z.strictObject({
  id: workerId,
  state: z.enum(['WAITING', 'ACTIVE', 'INACTIVE']),
  /** S_HELLO rounds since it last answered; above 2 it is INACTIVE. */
  counter: count,
  slots: z.number().int().min(1).max(64),
  nmap: shortText,
  /** The attempts the master believes run there now. */
  running: z.array(jobRef).max(64),
  lastSeen: count,
  jobsDone: count,
  jobsFailed: count,
});
export type StatusWorker = z.infer<typeof statusWorker>;

/**
 * Master → anyone who asks: its state, retained on `<root>master/status` and replaced every hello
 * round, so `scanmesh status` (or any MQTT client) gets the latest at once on subscribe. `ts` and
 * `helloIntervalS` let a reader tell a stale status (master gone) from a fresh one.
 */
export const status = z.strictObject({
  kind: z.literal('S_STATUS'),
  master: shortText,
  ts: count,
  round: count,
  helloIntervalS: z.number().positive(),
  /** At most MAX_STATUS_WORKERS, active ones first; the rest are only counted. */
  workers: z.array(statusWorker).max(1000),
  workersOmitted: count,
  jobs: z.strictObject({
    pending: count,
    running: count,
    done: count,
    failed: count,
    removed: count,
  }),
  /** Ended attempts not yet written to InfluxDB. */
  backlog: count,
  progress: z.strictObject({
    /** Jobs done or failed, of all jobs not removed. */
    ended: count,
    total: count,
    /** Jobs ended per minute over the last minutes; null until there are two samples. */
    perMinute: z.number().min(0).nullable(),
    /** Seconds until every job has ended at that rate; null when the rate is 0 or unknown. */
    etaS: z.number().min(0).nullable(),
  }),
  /** Scheduled runs to come (recurring jobs); empty until the master has a scheduler. */
  nextRuns: z.array(z.strictObject({ job: jobId, command: shortText, at: count })).max(1000),
});
export type Status = z.infer<typeof status>;
