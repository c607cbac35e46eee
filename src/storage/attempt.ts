import type { ScanStatus } from '../protocol/messages/data.ts';
import type { RunStats, ScanMeta } from '../nmap/result.ts';

/**
 * The summary of one ended job attempt, as the master stores it. Its hosts are stored beside it
 * (one record per host, in the order the worker sent them); `hostCount` says how many.
 */
export interface AttemptRecord {
  job: string;
  /** The master's sequence number for the job: makes timestamps unique per job. */
  jobSeq: number;
  command: string;
  attempt: number;
  worker: string;
  status: ScanStatus;
  exitCode: number | null;
  error: string;
  code: string;
  meta: ScanMeta | null;
  stats: RunStats | null;
  /** Worker clock, Unix milliseconds. */
  startedAt: number;
  finishedAt: number;
  hostCount: number;
  /**
   * The InfluxDB timestamp of every point of this attempt, nanoseconds as a decimal string
   * (beyond 2^53, so never a JS number). Fixed once, when the master first stores the attempt, so
   * writing the attempt again overwrites the same points instead of adding new ones.
   */
  timestampNs: string;
}
