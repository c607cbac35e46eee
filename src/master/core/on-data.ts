import type { HostResult } from '../../nmap/result.ts';
import type { Data, DataEnd } from '../../protocol/messages/data.ts';
import type { DataAck } from '../../protocol/messages/data-ack.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { attemptTimestampNs } from '../../storage/timestamp.ts';
import type { Ctx } from './context.ts';
import { assignJobs, failureReason, finishJob, releaseSlot, requeueOrFail } from './scheduling.ts';
import type { After, AttemptReceipt, JobEntry, MasterRecord } from './types.ts';

/**
 * DATA: one part of an attempt's results. A new part is persisted and only then acknowledged; a
 * part already held, or one nobody wants any more, is acknowledged without being stored again, so
 * the worker can forget it. When the end part and every host part are in, the attempt ends.
 */
export function onData(ctx: Ctx, msg: Data): void {
  // A part stored in this step is acknowledged once its record is durable; any other answer may
  // rest on the job's records of earlier steps (the part held, the job's status).
  const ack = (outcome: DataAck['outcome'], after: After = { job: msg.job }) =>
    ctx.fx.publish(
      {
        to: msg.worker,
        channel: 'ack',
        message: { kind: 'DATA_ACK', job: msg.job, attempt: msg.attempt, seq: msg.seq, outcome },
      },
      after,
    );
  const job = ctx.state.jobs.get(msg.job);
  if (!job || msg.attempt > job.attempts) return ack('stale');
  if (job.status === 'done') return ack(job.doneAttempt === msg.attempt ? 'duplicate' : 'stale');
  if (job.status === 'failed' || job.status === 'removed') return ack('stale');

  let receipt = job.receipts.get(msg.attempt);
  if (!receipt) {
    receipt = { worker: msg.worker, hosts: new Map(), end: null, ended: false };
    job.receipts.set(msg.attempt, receipt);
  } else if (receipt.worker !== msg.worker) {
    // Each attempt is handed to exactly one worker; another one claiming it is not believed.
    ctx.fx.log('warn', 'DATA for an attempt of another worker dropped', {
      code: 'SCANMESH_IDENTITY_MISMATCH',
      job: msg.job,
      attempt: msg.attempt,
      worker: msg.worker,
      owner: receipt.worker,
    });
    return;
  }
  if (receipt.ended || !isNew(receipt, msg)) return ack('duplicate');
  // A worker sends a window of parts at a time and the rest wait in its spool, so a big result
  // can still be arriving after timeout + grace: parts still coming keep the attempt alive.
  const live = job.live.get(msg.attempt);
  if (live) live.deadline = Math.max(live.deadline, ctx.now + ctx.options.deadlineGraceMs);

  let record: MasterRecord;
  if (msg.part === 'host') {
    receipt.hosts.set(msg.seq, msg.host);
    record = ctx.fx.persist({
      t: 'host',
      job: msg.job,
      attempt: msg.attempt,
      worker: msg.worker,
      seq: msg.seq,
      host: msg.host,
    });
  } else {
    receipt.end = msg;
    for (const seq of receipt.hosts.keys()) if (seq >= msg.seq) receipt.hosts.delete(seq);
    record = ctx.fx.persist({
      t: 'end',
      job: msg.job,
      attempt: msg.attempt,
      worker: msg.worker,
      end: msg,
    });
  }
  ack('stored', [record]);
  endIfComplete(ctx, job, msg.attempt);
}

function isNew(receipt: AttemptReceipt, msg: Data): boolean {
  if (msg.part === 'end') return receipt.end === null;
  if (receipt.end && msg.seq >= receipt.end.seq) return false;
  return !receipt.hosts.has(msg.seq);
}

/** Called after every stored part, and on start for attempts a crash left complete but not ended. */
export function endIfComplete(ctx: Ctx, job: JobEntry, attempt: number): void {
  const receipt = job.receipts.get(attempt);
  if (!receipt?.end || receipt.ended || receipt.hosts.size < receipt.end.seq) return;
  const end = receipt.end;
  const hosts = [...receipt.hosts.entries()].sort((a, b) => a[0] - b[0]).map(([, h]) => h);
  const record = attemptRecord(job, attempt, receipt.worker, end, hosts);
  const worker = ctx.state.workers.get(receipt.worker);
  receipt.ended = true;
  receipt.hosts.clear();

  if (end.status === 'completed') {
    ctx.fx.push({ type: 'finish', record, hosts });
    job.doneAttempt = attempt;
    if (worker) worker.jobsDone += 1;
    releaseSlot(ctx, job, attempt);
    finishJob(ctx, job, 'done', '', {
      attempt,
      worker: receipt.worker,
      hosts: hosts.length,
      open_ports: countOpen(hosts),
      duration_s: (end.finishedAt - end.startedAt) / 1000,
    });
  } else {
    ctx.fx.push({ type: 'finish', record, hosts: [] });
    if (worker) worker.jobsFailed += 1;
    const reason = failureReason(end.status, end.error);
    ctx.fx.log('warn', 'attempt failed', {
      job: job.id,
      attempt,
      worker: receipt.worker,
      status: end.status,
      code: end.code || undefined,
      error: end.error,
    });
    const wasLive = job.live.has(attempt);
    releaseSlot(ctx, job, attempt);
    if (wasLive && job.status === 'running' && job.live.size === 0) {
      requeueOrFail(ctx, job, reason, false);
    }
  }
  if (worker) ctx.fx.push({ type: 'worker-changed', worker });
  assignJobs(ctx);
}

function countOpen(hosts: readonly HostResult[]): number {
  let n = 0;
  for (const h of hosts) for (const p of h.ports) if (p.state === 'open') n += 1;
  return n;
}

function attemptRecord(
  job: JobEntry,
  attempt: number,
  worker: string,
  end: DataEnd,
  hosts: readonly HostResult[],
): AttemptRecord {
  const startS = end.meta?.start ?? Math.floor(end.startedAt / 1000);
  return {
    job: job.id,
    jobSeq: job.seq,
    command: job.command,
    attempt,
    worker,
    status: end.status,
    exitCode: end.exitCode,
    error: end.error,
    code: end.code,
    meta: end.meta,
    stats: end.stats,
    startedAt: end.startedAt,
    finishedAt: end.finishedAt,
    hostCount: hosts.length,
    timestampNs: attemptTimestampNs(startS, job.seq, attempt),
  };
}
