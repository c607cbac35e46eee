import type { NmapOutcome } from '../nmap/runner.ts';

/**
 * The summary of one ended job attempt, as the master stores it: the worker's nmap outcome (times
 * on the worker's clock) plus the job it belongs to. Its hosts are stored beside it, in the order
 * the worker sent them; `hostCount` says how many.
 */
export interface AttemptRecord extends NmapOutcome {
  job: string;
  /** The master's sequence number for the job: makes timestamps unique per job. */
  jobSeq: number;
  command: string;
  attempt: number;
  worker: string;
  /**
   * The InfluxDB timestamp of every point of this attempt, nanoseconds as a decimal string
   * (beyond 2^53, so never a JS number). Fixed once, when the master first stores the attempt, so
   * writing the attempt again overwrites the same points instead of adding new ones.
   */
  timestampNs: string;
}
