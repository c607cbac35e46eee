import { MasterState } from './state.ts';
import type { Ctx } from './context.ts';
import type { JobEntry, WorkerEntry, WorkerState } from './types.ts';

export function setWorkerState(ctx: Ctx, worker: WorkerEntry, next: WorkerState): void {
  if (worker.state === next) return;
  const from = worker.state;
  worker.state = next;
  ctx.fx.log('info', 'worker state', { worker: worker.id, from, to: next });
  ctx.fx.push({ type: 'worker-changed', worker });
}

export function deadlineFor(ctx: Ctx, job: JobEntry): number {
  return ctx.now + job.timeoutS * 1000 + ctx.options.deadlineGraceMs;
}

/** Hand pending jobs to workers with free slots, oldest waiting worker first. */
export function assignJobs(ctx: Ctx): void {
  const { state } = ctx;
  if (state.pending.size === 0) return;
  for (const worker of state.workers.values()) {
    while (worker.state !== 'INACTIVE' && worker.running.size < worker.slots) {
      const job = nextPending(ctx);
      if (!job) return;
      startAttempt(ctx, job, worker);
    }
  }
}

function nextPending(ctx: Ctx): JobEntry | undefined {
  const { state } = ctx;
  for (let id = state.pending.shift(); id !== undefined; id = state.pending.shift()) {
    const job = state.jobs.get(id);
    // Checked here too, so the limit holds whatever order a restart ends what it finds in.
    if (job?.status !== 'pending' || failIfSpent(ctx, job)) continue;
    return job;
  }
  return undefined;
}

function startAttempt(ctx: Ctx, job: JobEntry, worker: WorkerEntry): void {
  const attempt = job.attempts + 1;
  const deadline = deadlineFor(ctx, job);
  // The clock's ms keep stamps above those of an earlier run whose journal is gone; the +1 keeps
  // them rising when many jobs start in one ms or the clock steps back.
  const stamp = Math.max(ctx.state.lastStamp + 1, Math.floor(ctx.now));
  ctx.state.lastStamp = stamp;
  job.attempts = attempt;
  ctx.state.setStatus(job, 'running');
  job.live.set(attempt, { worker: worker.id, deadline, since: ctx.now });
  worker.running.set(job.id, attempt);
  const assign = ctx.fx.persist({
    t: 'assign',
    job: job.id,
    attempt,
    worker: worker.id,
    deadline,
    stamp,
  });
  ctx.fx.publish(
    {
      to: worker.id,
      channel: 'jobs',
      message: { kind: 'JOB', job: job.id, attempt, stamp, args: job.args, timeoutS: job.timeoutS },
    },
    [assign],
  );
  ctx.fx.log('info', 'job started', {
    job: job.id,
    attempt,
    worker: worker.id,
    command: job.command,
  });
  setWorkerState(ctx, worker, 'ACTIVE');
}

/** Forget that a worker runs this attempt, and let the worker take new work. */
export function releaseSlot(ctx: Ctx, job: JobEntry, attempt: number): void {
  const live = job.live.get(attempt);
  if (!live) return;
  job.live.delete(attempt);
  const worker = ctx.state.workers.get(live.worker);
  if (!worker || worker.running.get(job.id) !== attempt) return;
  worker.running.delete(job.id);
  if (worker.state !== 'INACTIVE') setWorkerState(ctx, worker, MasterState.activeState(worker));
}

/**
 * Stop waiting for one attempt (its worker vanished, lost it, or overran the deadline). The job
 * goes back to the queue, at the head when the cause was the worker, not the command.
 */
export function cutoff(
  ctx: Ctx,
  job: JobEntry,
  attempt: number,
  reason: string,
  how: { cancel: boolean; head: boolean },
): void {
  const live = job.live.get(attempt);
  if (!live) return;
  releaseSlot(ctx, job, attempt);
  const record = ctx.fx.persist({ t: 'cutoff', job: job.id, attempt, reason });
  ctx.fx.log('warn', 'attempt cut off', { job: job.id, attempt, worker: live.worker, reason });
  if (how.cancel) {
    ctx.fx.publish(
      {
        to: live.worker,
        channel: 'jobs',
        message: { kind: 'CANCEL', job: job.id, attempt, reason },
      },
      [record],
    );
  }
  if (job.status === 'running' && job.live.size === 0) requeueOrFail(ctx, job, reason, how.head);
}

/** Why an attempt ended without results, as the job's reason gives it. */
export function failureReason(status: string, error: string): string {
  return `${status}${error ? `: ${error}` : ''}`;
}

/**
 * A job whose last attempt ended without results runs again, unless it has had all its attempts.
 * A job waiting to run again keeps the reason, for a restart that finds its attempts spent.
 */
export function requeueOrFail(ctx: Ctx, job: JobEntry, reason: string, head: boolean): void {
  job.reason = reason;
  if (job.attempts >= ctx.options.maxAttempts) {
    finishJob(ctx, job, 'failed', `gave up after ${job.attempts} attempts: ${reason}`);
    return;
  }
  ctx.state.setStatus(job, 'pending');
  if (head) ctx.state.pending.unshift(job.id);
  else ctx.state.pending.push(job.id);
  ctx.fx.log('info', 'job requeued', { job: job.id, next_attempt: job.attempts + 1, reason });
}

/**
 * Gives up on a pending job that has had all its attempts, with the reason its last one ended.
 * Only a restart leaves one (restore.ts, failSpentJobs).
 */
export function failIfSpent(ctx: Ctx, job: JobEntry): boolean {
  if (job.attempts < ctx.options.maxAttempts) return false;
  requeueOrFail(ctx, job, job.reason || 'attempts spent before a restart', false);
  return true;
}

/**
 * Move a job to a final status; every attempt still out there is told to stop, once the status
 * that makes it pointless is durable.
 */
export function finishJob(
  ctx: Ctx,
  job: JobEntry,
  status: 'done' | 'failed' | 'removed',
  reason: string,
  details: Record<string, unknown> = {},
): void {
  const stopped = [...job.live];
  for (const [attempt] of stopped) releaseSlot(ctx, job, attempt);
  ctx.state.setStatus(job, status);
  job.reason = reason;
  job.receipts.clear();
  ctx.state.dequeue(job.id);
  const record = ctx.fx.persist({ t: 'status', job: job.id, status, reason });
  for (const [attempt, live] of stopped) {
    ctx.fx.publish(
      {
        to: live.worker,
        channel: 'jobs',
        message: { kind: 'CANCEL', job: job.id, attempt, reason: `job ${status}` },
      },
      [record],
    );
  }
  const c = ctx.state.counts();
  const total = ctx.state.jobs.size - c.removed;
  ctx.fx.log(status === 'failed' ? 'warn' : 'info', `job ${status}`, {
    job: job.id,
    command: job.command,
    ...(reason ? { reason } : {}),
    ...details,
  });
  if (job.parent) splitProgress(ctx, job.parent);
  ctx.fx.log('info', 'progress', {
    done: c.done,
    failed: c.failed,
    total,
    pending: c.pending,
    running: c.running,
  });
}

/** A worker that stopped answering: what it ran goes back to the head of the queue. */
export function markInactive(ctx: Ctx, worker: WorkerEntry, reason: string): void {
  if (worker.state === 'INACTIVE') return;
  setWorkerState(ctx, worker, 'INACTIVE');
  ctx.fx.log('warn', 'worker inactive', { worker: worker.id, reason });
  for (const [jobId, attempt] of [...worker.running]) {
    const job = ctx.state.jobs.get(jobId);
    if (job)
      cutoff(ctx, job, attempt, `worker ${worker.id} inactive: ${reason}`, {
        cancel: false,
        head: true,
      });
  }
}

/** Progress of an `@split` line over its blocks; its end once every block has ended. */
function splitProgress(ctx: Ctx, parent: string): void {
  const ids = ctx.state.children.get(parent) ?? [];
  let done = 0;
  let failed = 0;
  for (const id of ids) {
    const status = ctx.state.jobs.get(id)?.status;
    if (status === 'done') done += 1;
    if (status === 'failed' || status === 'removed') failed += 1;
  }
  const data = { parent, done, failed, blocks: ids.length };
  ctx.fx.log('info', done + failed === ids.length ? 'split job ended' : 'split progress', data);
}
