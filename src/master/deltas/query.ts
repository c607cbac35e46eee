import type { DeltaSummary, HostDelta } from '../../delta/index.ts';
import { summarizeHosts } from '../../delta/report.ts';
import { ScanmeshError } from '../../errors.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import type { HistoryEntry } from './history-file.ts';

/**
 * `scanmesh diff HOST|JOB` over the master's store: what a query asks and what it answers. Pure.
 * Jobs are answered from the changes the master recorded (query-jobs.ts), hosts by comparing two
 * stored results again (query-hosts.ts), so a host can be compared with any earlier result, not
 * only the one the master happened to compare it with. query-store.ts loads and runs a query.
 */

export type DiffTarget =
  | { kind: 'job'; id: string }
  | { kind: 'host'; address: string }
  /** No argument: every host the history names. */
  | { kind: 'all' };

/** Job ids are `j-<hash>-<n>` (commands-file.ts) and never an address: that tells them apart. */
export function diffTarget(arg: string | undefined): DiffTarget {
  if (arg === undefined) return { kind: 'all' };
  return arg.startsWith('j-') ? { kind: 'job', id: arg } : { kind: 'host', address: arg };
}

/** One side of the report's header: a compared attempt, named as the master files it. */
export interface RunRef {
  job: string;
  attempt: number;
  /** When the master compared it (history.jsonl's `at`, its clock, Unix ms). */
  at: number;
  nmapVersion: string;
  /** nmap's command line as its XML header gives it, else the job's arguments. */
  args: string;
  /** Unix seconds nmap started; when the master compared it if nmap wrote no header. */
  start: number;
}

export function runRef(entry: HistoryEntry, record: AttemptRecord | null): RunRef {
  const meta = record?.meta ?? null;
  return {
    job: entry.job,
    attempt: entry.attempt,
    at: entry.at,
    nmapVersion: meta?.nmapVersion ?? '',
    args: meta?.args ?? (record === null ? '' : `nmap ${record.command}`),
    start: meta?.start ?? Math.floor(entry.at / 1000),
  };
}

export interface StoreDelta {
  target: DiffTarget;
  /** `--since`'s point in time (Unix ms); null without it. */
  cutoff: number | null;
  /** The earlier attempts compared, oldest first. */
  old: RunRef[];
  /** The later attempts compared, oldest first. */
  new: RunRef[];
  /** Every host compared (a job: only those the master recorded a change or noise for). */
  hosts: HostDelta[];
  /** How many hosts were compared, changed or not. */
  compared: number;
}

export function storeSummary(delta: StoreDelta): DeltaSummary {
  return summarizeHosts(delta.hosts, delta.compared);
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since` durations: a whole number and one unit (90s, 30m, 24h, 7d), in milliseconds. */
export function parseSince(text: string): number {
  const m = /^([0-9]{1,9})([smhd])$/.exec(text.trim());
  if (m === null || Number(m[1]) === 0) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `--since takes a duration such as 90s, 30m, 24h or 7d (got "${text}")`,
    );
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
