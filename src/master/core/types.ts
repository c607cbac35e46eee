import type { HostResult } from '../../nmap/result.ts';
import type { Cancel } from '../../protocol/messages/cancel.ts';
import type { DataEnd } from '../../protocol/messages/data.ts';
import type { DataAck } from '../../protocol/messages/data-ack.ts';
import type { Job } from '../../protocol/messages/job.ts';
import type { SHello } from '../../protocol/messages/s-hello.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';

export type WorkerState = 'WAITING' | 'ACTIVE' | 'INACTIVE';
export type JobStatus = 'pending' | 'running' | 'done' | 'failed' | 'removed';

export interface WorkerEntry {
  id: string;
  state: WorkerState;
  /** S_HELLO rounds since the worker last answered; above 2 it is INACTIVE. */
  counter: number;
  slots: number;
  nmap: string;
  /** Attempts the master believes run there, by job id. */
  running: Map<string, number>;
  lastSeen: number;
  /**
   * Until this time (ms) missed rounds are not counted: a restarted master waits for the workers
   * its journal says were running something, which reconnect with backoff, before requeueing.
   */
  graceUntil: number;
  jobsDone: number;
  jobsFailed: number;
}

/** What the master has received of one attempt: host parts by seq, and the end part. */
export interface AttemptReceipt {
  worker: string;
  hosts: Map<number, HostResult>;
  end: DataEnd | null;
  /** Set once the attempt is ended and stored; its hosts are then dropped from memory. */
  ended: boolean;
}

export interface JobEntry {
  id: string;
  /** Order of creation; makes InfluxDB timestamps unique per job. */
  seq: number;
  command: string;
  args: string[];
  timeoutS: number;
  /** Changed only through `MasterState.setStatus`, which keeps the counts by status. */
  readonly status: JobStatus;
  /** Highest attempt number handed out so far (0 before the first). */
  attempts: number;
  /** Attempts the master is waiting on, with their worker and deadline (ms). */
  live: Map<number, { worker: string; deadline: number; since: number }>;
  receipts: Map<number, AttemptReceipt>;
  /** The attempt whose results stand, once the job is done. */
  doneAttempt: number | null;
  /** Why the job ended; before that, why its last attempt ended without results (or ''). */
  reason: string;
  parent: string | null;
  /** For a run of a recurring line: which line, which run, and when the run started. */
  run: RunRef | null;
}

export interface RunRef {
  line: string;
  /** 1 for the first run; the run's jobs are `<line>-r<k>` (and `<line>-r<k>.<b>` when split). */
  k: number;
  /** When the master started the run (ms): the next one is scheduled from it. */
  at: number;
}

/** A recurring commands line, as the master keeps it between runs. */
export interface ScheduleEntry {
  line: string;
  /** Canonical schedule text (`@every 6h`, `@cron "0 3 * * *"`). */
  spec: string;
  /** The jobs of one run, as the commands file gives them (with the line's own ids). */
  template: CommandEntry[];
  /** When the master first saw the line (ms): `@every` slots are counted from it. */
  anchor: number;
  /** Runs started so far. */
  runs: number;
  /** When the next run is due (ms). */
  nextAt: number;
  /** The latest run's job ids: a run never starts before the one before it has ended. */
  current: string[];
  /** Set once the master has logged that a due run waits for the previous one. */
  waiting: boolean;
}

/** A commands.txt line the master accepted, with the id the shell derived for it. */
export interface CommandEntry {
  id: string;
  command: string;
  args: string[];
  timeoutS: number;
  /** For a block of an `@split` line: the id of the line; the block ids are `<parent>.<k>`. */
  parent?: string;
  /**
   * For a recurring line (`@every 6h …`, `@cron "0 3 * * *" …`): the line's id and its schedule
   * (canonical text, see master/schedule.ts). Every entry of the line carries it; the entries are
   * the template of one run, whose jobs the core names `<line>-r<k>…`.
   */
  schedule?: { line: string; spec: string };
}

/**
 * Journal records: facts the master writes before it acts on them. Replayed in order on start,
 * they rebuild every job; workers are not recorded, they announce themselves again.
 */
export type MasterRecord =
  | {
      t: 'job';
      id: string;
      seq: number;
      command: string;
      args: string[];
      timeoutS: number;
      parent?: string;
      run?: RunRef;
    }
  /** A recurring line appeared in the commands file. */
  | { t: 'schedule'; line: string; spec: string; template: CommandEntry[]; anchor: number }
  /** A recurring line left the commands file: no more runs. */
  | { t: 'unschedule'; line: string }
  /** `stamp`: the JOB's; left out by compaction and by journals older than stamps. */
  | { t: 'assign'; job: string; attempt: number; worker: string; deadline: number; stamp?: number }
  /** The last JOB stamp given, as compaction keeps it. */
  | { t: 'stamp'; stamp: number }
  | { t: 'adopt'; job: string; attempt: number; worker: string; deadline: number }
  | { t: 'host'; job: string; attempt: number; worker: string; seq: number; host: HostResult }
  | { t: 'end'; job: string; attempt: number; worker: string; end: DataEnd }
  | { t: 'cutoff'; job: string; attempt: number; reason: string }
  | { t: 'ended'; record: AttemptRecord }
  /** An ended attempt of a job still in progress, as compaction keeps it (the record is filed). */
  | { t: 'closed'; job: string; attempt: number; worker: string }
  | { t: 'status'; job: string; status: JobStatus; reason: string }
  | { t: 'written'; job: string; attempt: number }
  /** The attempt was compared with each host's previous result (master/deltas); shell-only. */
  | { t: 'compared'; job: string; attempt: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Outgoing =
  | { to: 'all'; channel: 'hello'; message: SHello }
  | { to: string; channel: 'jobs'; message: Job | Cancel }
  | { to: string; channel: 'ack'; message: DataAck };

/**
 * What a message announces, and so must wait for: records persisted earlier in the same step
 * (durable first), or `{ job }` when the fact it announces may lie in earlier steps' records of
 * that job (a part already held, the job's status), so that every record of the job persisted
 * before it must be durable. An empty list announces nothing the journal holds.
 */
export type After = readonly MasterRecord[] | { readonly job: string };

/**
 * What the core asks its shell to do, in order. Records reach the journal in this order wherever
 * the order can matter on replay (see journal-order.ts); a publish leaves once what it announces
 * (`after`) is durable, so acks and job assignments only ever follow the facts they announce.
 */
export type Effect =
  | { type: 'persist'; record: MasterRecord }
  /** Store the ended attempt (its results file, then an `ended` record) and queue it for InfluxDB. */
  | { type: 'finish'; record: AttemptRecord; hosts: HostResult[] }
  | { type: 'publish'; out: Outgoing; after: After }
  | { type: 'log'; level: LogLevel; msg: string; data: Record<string, unknown> }
  /** A worker changed state: the shell writes a `worker` point. */
  | { type: 'worker-changed'; worker: WorkerEntry };
