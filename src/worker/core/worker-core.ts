import type { DataAck } from '../../protocol/messages/data-ack.ts';
import { partKey, type Data, type DataEnd } from '../../protocol/messages/data.ts';
import type {
  Cancel,
  HostResult,
  Job,
  NmapOutcome,
  RunningAttempt,
  WorkerEffect,
} from './types.ts';

export interface WorkerCoreOptions {
  id: string;
  nmapVersion: string;
  slots: number;
  /** An unacknowledged DATA is sent again when an S_HELLO shows the master is there and it is this old, ms. */
  resendAfterMs: number;
}

const ENDED_MEMORY = 1000;

interface Unacked {
  message: Data;
  sentAt: number;
}

/**
 * The worker's protocol state machine. Pure: the shell feeds it messages, nmap's progress and the
 * time, and carries out the effects it returns (spool, publish, run, abort, log).
 */
export class WorkerCore {
  readonly options: WorkerCoreOptions;
  private readonly running = new Map<string, RunningAttempt>();
  private readonly unacked = new Map<string, Unacked>();
  /** Recently ended attempts, so a JOB the broker delivers twice does not run twice. */
  private readonly ended = new Set<string>();

  constructor(options: WorkerCoreOptions, spooled: readonly Data[] = []) {
    this.options = options;
    for (const message of spooled) {
      this.unacked.set(partKey(message.job, message.attempt, message.seq), { message, sentAt: 0 });
    }
  }

  /** Connected (or reconnected): announce ourselves and send every result not yet acknowledged. */
  connected(now: number): WorkerEffect[] {
    const fx: WorkerEffect[] = [this.hello()];
    for (const u of this.unacked.values()) {
      u.sentAt = now;
      fx.push({ type: 'send', message: u.message });
    }
    return fx;
  }

  sHello(now: number): WorkerEffect[] {
    const fx: WorkerEffect[] = [this.hello()];
    for (const u of this.unacked.values()) {
      if (now - u.sentAt < this.options.resendAfterMs) continue;
      u.sentAt = now;
      fx.push({ type: 'send', message: u.message });
    }
    return fx;
  }

  job(job: Job, now: number): WorkerEffect[] {
    const key = attemptKey(job.job, job.attempt);
    if (this.running.has(key) || this.ended.has(key) || this.holds(job.job, job.attempt)) {
      return [log('debug', 'job already known', { job: job.job, attempt: job.attempt })];
    }
    if (this.running.size >= this.options.slots) {
      // The master assigns within our slots, so this is a crossing of messages. Our next CL_HELLO
      // will not list the job, and the master requeues it.
      return [
        log('warn', 'job refused: all slots busy', {
          job: job.job,
          attempt: job.attempt,
          slots: this.options.slots,
        }),
      ];
    }
    this.running.set(key, { job, nextSeq: 0, startedAt: now });
    return [
      log('info', 'job received', { job: job.job, attempt: job.attempt, args: job.args }),
      { type: 'run', job },
    ];
  }

  hostFound(jobId: string, attempt: number, host: HostResult): WorkerEffect[] {
    const run = this.running.get(attemptKey(jobId, attempt));
    if (!run) return [];
    return this.emit(
      {
        kind: 'DATA',
        worker: this.options.id,
        job: jobId,
        attempt,
        seq: run.nextSeq++,
        part: 'host',
        host,
      },
      run.startedAt,
    );
  }

  runEnded(jobId: string, attempt: number, outcome: NmapOutcome): WorkerEffect[] {
    const key = attemptKey(jobId, attempt);
    const run = this.running.get(key);
    if (!run) return [];
    this.running.delete(key);
    this.remember(key);
    const end: DataEnd = {
      kind: 'DATA',
      worker: this.options.id,
      job: jobId,
      attempt,
      seq: run.nextSeq,
      part: 'end',
      status: outcome.status,
      exitCode: outcome.exitCode,
      error: outcome.error,
      code: outcome.code,
      meta: outcome.meta,
      stats: outcome.stats,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
    };
    // Logged after the spool effects, so "job ended" means the results are on disk.
    return [
      ...this.emit(end, outcome.finishedAt),
      log(outcome.status === 'completed' ? 'info' : 'warn', 'job ended', {
        job: jobId,
        attempt,
        status: outcome.status,
        hosts: run.nextSeq,
        ...(outcome.error ? { error: outcome.error, code: outcome.code } : {}),
      }),
    ];
  }

  ack(msg: DataAck): WorkerEffect[] {
    const key = partKey(msg.job, msg.attempt, msg.seq);
    if (!this.unacked.delete(key)) return [];
    return [{ type: 'forget', job: msg.job, attempt: msg.attempt, seq: msg.seq }];
  }

  cancel(msg: Cancel): WorkerEffect[] {
    const key = attemptKey(msg.job, msg.attempt);
    const fx: WorkerEffect[] = [];
    if (this.running.delete(key)) {
      this.remember(key);
      fx.push(
        log('info', 'job cancelled', { job: msg.job, attempt: msg.attempt, reason: msg.reason }),
      );
      fx.push({ type: 'abort', job: msg.job, attempt: msg.attempt, reason: msg.reason });
    }
    // Results the master no longer wants need not wait in the spool either.
    for (const [k, u] of this.unacked) {
      if (u.message.job !== msg.job || u.message.attempt !== msg.attempt) continue;
      this.unacked.delete(k);
      fx.push({ type: 'forget', job: msg.job, attempt: msg.attempt, seq: u.message.seq });
    }
    return fx;
  }

  get busy(): number {
    return this.running.size;
  }

  get pending(): number {
    return this.unacked.size;
  }

  private emit(message: Data, now: number): WorkerEffect[] {
    this.unacked.set(partKey(message.job, message.attempt, message.seq), { message, sentAt: now });
    return [
      { type: 'spool', message },
      { type: 'send', message },
    ];
  }

  private remember(key: string): void {
    this.ended.add(key);
    if (this.ended.size > ENDED_MEMORY) {
      const oldest = this.ended.values().next().value as string;
      this.ended.delete(oldest);
    }
  }

  private holds(job: string, attempt: number): boolean {
    for (const u of this.unacked.values()) {
      if (u.message.job === job && u.message.attempt === attempt) return true;
    }
    return false;
  }

  private hello(): WorkerEffect {
    const held = new Map<string, { job: string; attempt: number }>();
    for (const { message: m } of this.unacked.values()) {
      held.set(attemptKey(m.job, m.attempt), { job: m.job, attempt: m.attempt });
    }
    return {
      type: 'hello',
      message: {
        kind: 'CL_HELLO',
        worker: this.options.id,
        nmap: this.options.nmapVersion,
        slots: this.options.slots,
        running: [...this.running.values()].map((r) => ({
          job: r.job.job,
          attempt: r.job.attempt,
        })),
        held: [...held.values()].slice(0, 10_000),
      },
    };
  }
}

function attemptKey(job: string, attempt: number): string {
  return `${job}#${attempt}`;
}

function log(
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  data: Record<string, unknown>,
): WorkerEffect {
  return { type: 'log', level, msg, data };
}
