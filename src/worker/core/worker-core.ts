import type { DataAck } from '../../protocol/messages/data-ack.ts';
import { partKey, type Data, type DataEnd } from '../../protocol/messages/data.ts';
import { Backlog, type PartRef } from './backlog.ts';
import type {
  Cancel,
  HostResult,
  Job,
  NmapOutcome,
  RunningAttempt,
  WorkerEffect,
} from './types.ts';

export interface SendWindow {
  /** Most DATA parts published and not yet acknowledged. */
  parts: number;
  /** Most bytes of them; a single larger part still goes, alone. */
  bytes: number;
}

export interface WorkerCoreOptions {
  id: string;
  nmapVersion: string;
  slots: number;
  /** An unacknowledged DATA is sent again when an S_HELLO shows the master is there and it is this old, ms. */
  resendAfterMs: number;
  /** Flow control: how much may be on the wire at once; the rest waits in the spool, on disk. */
  window?: SendWindow;
  /** The highest JOB stamp accepted before this start (the shell keeps it on disk); 0: none. */
  acceptedStamp?: number;
}

/**
 * 64 parts on the wire keep up with the master's ack rate (~1,800 parts/s measured on loopback)
 * up to a 35 ms round trip, and bound what waits for acks in memory (ours and mqtt.js') to ~150 KB
 * of typical host parts; the byte cap keeps a window of huge hosts (thousands of ports, scripts)
 * at 2 MiB. Everything else waits on disk.
 */
const DEFAULT_WINDOW: SendWindow = { parts: 64, bytes: 2 * 1024 * 1024 };

const ENDED_MEMORY = 1000;

interface InFlight extends PartRef {
  /**
   * When it was last sent. null: let onto the wire by an ack or a cancel, which carry no time; its
   * age then counts from the next S_HELLO, at most one hello interval late.
   */
  sentAt: number | null;
}

/**
 * The worker's protocol state machine. Pure: the shell feeds it messages, nmap's progress and the
 * time, and carries out the effects it returns (spool, publish, run, abort, log).
 *
 * Flow control: every part is spooled as it is found, so nmap never waits for the master. Only a
 * window of them is published and unacknowledged at a time (`inFlight`); the others wait in
 * `backlog` as references, their bodies on disk, and each DATA_ACK lets the oldest one out.
 */
export class WorkerCore {
  readonly options: WorkerCoreOptions;
  private readonly window: SendWindow;
  private readonly running = new Map<string, RunningAttempt>();
  /** Published and unacknowledged, in the order they were first sent. */
  private readonly inFlight = new Map<string, InFlight>();
  private inFlightBytes = 0;
  private readonly backlog = new Backlog();
  /** Recently ended attempts, so a JOB the broker delivers twice does not run twice. */
  private readonly ended = new Set<string>();
  /** A JOB must carry a stamp above this one (see protocol/messages/job.ts). */
  private acceptedStamp: number;

  /** `spooled`: the parts a previous run left in the spool, in spool order. */
  constructor(options: WorkerCoreOptions, spooled: readonly PartRef[] = []) {
    this.options = options;
    this.window = options.window ?? DEFAULT_WINDOW;
    this.acceptedStamp = options.acceptedStamp ?? 0;
    for (const part of spooled) this.backlog.push(part);
  }

  /** Connected (or reconnected): announce ourselves, send again what is on the wire, fill the window. */
  connected(now: number): WorkerEffect[] {
    const fx: WorkerEffect[] = [this.hello()];
    for (const part of this.inFlight.values()) {
      part.sentAt = now;
      fx.push(sendSpooled(part));
    }
    return this.fill(fx, now);
  }

  sHello(now: number): WorkerEffect[] {
    const fx: WorkerEffect[] = [this.hello()];
    for (const part of this.inFlight.values()) {
      if (part.sentAt === null) part.sentAt = now;
      if (now - part.sentAt < this.options.resendAfterMs) continue;
      part.sentAt = now;
      fx.push(sendSpooled(part));
    }
    return fx;
  }

  job(job: Job, now: number): WorkerEffect[] {
    const key = attemptKey(job.job, job.attempt);
    if (this.running.has(key) || this.ended.has(key) || this.holds(job.job, job.attempt)) {
      return [log('debug', 'job already known', { job: job.job, attempt: job.attempt })];
    }
    // A JOB is delivered in the order its master stamped it, so one at or below the last stamp
    // accepted was captured and sent again. Our next CL_HELLO will not list it: if a master did
    // send it, it requeues the job under a new stamp.
    if (job.stamp <= this.acceptedStamp) {
      return [
        log('warn', 'job refused: stamped before one already accepted (replayed?)', {
          code: 'SCANMESH_STALE_JOB',
          job: job.job,
          attempt: job.attempt,
          stamp: job.stamp,
          accepted: this.acceptedStamp,
        }),
      ];
    }
    this.acceptedStamp = job.stamp;
    const stamp: WorkerEffect = { type: 'stamp', stamp: job.stamp };
    if (this.running.size >= this.options.slots) {
      // The master assigns within our slots, so this is a crossing of messages. Our next CL_HELLO
      // will not list the job, and the master requeues it.
      return [
        stamp,
        log('warn', 'job refused: all slots busy', {
          job: job.job,
          attempt: job.attempt,
          slots: this.options.slots,
        }),
      ];
    }
    this.running.set(key, { job, nextSeq: 0, startedAt: now });
    return [
      stamp,
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
    const forget: WorkerEffect = {
      type: 'forget',
      job: msg.job,
      attempt: msg.attempt,
      seq: msg.seq,
    };
    const key = partKey(msg.job, msg.attempt, msg.seq);
    const part = this.inFlight.get(key);
    if (part) {
      this.land(key, part);
      return this.fill([forget], null);
    }
    // Sent before a restart, and acknowledged only now that it waits in the backlog again.
    if (this.backlog.remove(msg.job, msg.attempt, msg.seq)) return [forget];
    return [];
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
    const seqs: number[] = [];
    for (const [k, part] of this.inFlight) {
      if (part.job !== msg.job || part.attempt !== msg.attempt) continue;
      this.land(k, part);
      seqs.push(part.seq);
    }
    seqs.push(...this.backlog.removeAttempt(msg.job, msg.attempt));
    for (const seq of seqs) fx.push({ type: 'forget', job: msg.job, attempt: msg.attempt, seq });
    return this.fill(fx, null);
  }

  get busy(): number {
    return this.running.size;
  }

  /** DATA parts not acknowledged yet: on the wire and waiting in the spool. */
  get pending(): number {
    return this.inFlight.size + this.backlog.size;
  }

  /** DATA parts published and not acknowledged yet: what the window bounds. */
  get onWire(): number {
    return this.inFlight.size;
  }

  private emit(message: Data, now: number): WorkerEffect[] {
    const part: PartRef = {
      job: message.job,
      attempt: message.attempt,
      seq: message.seq,
      bytes: JSON.stringify(message).length,
    };
    const fx: WorkerEffect[] = [{ type: 'spool', message }];
    // Behind older parts that wait, or with no room: it waits too (parts leave in order).
    if (this.backlog.size > 0 || !this.fits(part)) {
      this.backlog.push(part);
      return fx;
    }
    this.take(part, now);
    fx.push({ type: 'send', message });
    return fx;
  }

  /** Moves the oldest waiting parts onto the wire while the window has room. */
  private fill(fx: WorkerEffect[], now: number | null): WorkerEffect[] {
    for (let next = this.backlog.peek(); next && this.fits(next); next = this.backlog.peek()) {
      this.backlog.shift();
      this.take(next, now);
      fx.push(sendSpooled(next));
    }
    return fx;
  }

  private fits(part: PartRef): boolean {
    if (this.inFlight.size === 0) return true;
    return (
      this.inFlight.size < this.window.parts && this.inFlightBytes + part.bytes <= this.window.bytes
    );
  }

  private take(part: PartRef, now: number | null): void {
    this.inFlight.set(partKey(part.job, part.attempt, part.seq), { ...part, sentAt: now });
    this.inFlightBytes += part.bytes;
  }

  private land(key: string, part: InFlight): void {
    this.inFlight.delete(key);
    this.inFlightBytes -= part.bytes;
  }

  private remember(key: string): void {
    this.ended.add(key);
    if (this.ended.size > ENDED_MEMORY) {
      const oldest = this.ended.values().next().value as string;
      this.ended.delete(oldest);
    }
  }

  private holds(job: string, attempt: number): boolean {
    for (const part of this.inFlight.values()) {
      if (part.job === job && part.attempt === attempt) return true;
    }
    return this.backlog.holds(job, attempt);
  }

  private hello(): WorkerEffect {
    const held = new Map<string, { job: string; attempt: number }>();
    for (const m of [...this.inFlight.values(), ...this.backlog.attempts()]) {
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

function sendSpooled(part: PartRef): WorkerEffect {
  return { type: 'sendSpooled', job: part.job, attempt: part.attempt, seq: part.seq };
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
