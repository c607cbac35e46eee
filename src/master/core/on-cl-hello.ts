import type { ClHello } from '../../protocol/messages/cl-hello.ts';
import type { Ctx } from './context.ts';
import { assignJobs, cutoff, deadlineFor, setWorkerState } from './scheduling.ts';
import { MasterState } from './state.ts';
import type { WorkerEntry } from './types.ts';

/**
 * CL_HELLO: a worker is alive. New workers join WAITING; a known one has its counter reset, and an
 * INACTIVE one comes back. Then what the worker says it runs is reconciled with what the master
 * believes, so that neither a master restart nor a worker restart loses or doubles work.
 */
export function onClHello(ctx: Ctx, msg: ClHello): void {
  let worker = ctx.state.workers.get(msg.worker);
  if (!worker) {
    worker = ctx.state.newWorker(msg.worker, ctx.now);
    ctx.fx.log('info', 'worker joined', { worker: msg.worker, nmap: msg.nmap, slots: msg.slots });
    ctx.fx.push({ type: 'worker-changed', worker });
  }
  worker.counter = 0;
  worker.lastSeen = ctx.now;
  worker.slots = msg.slots;
  worker.nmap = msg.nmap;

  adoptReported(ctx, worker, msg);
  dropForgotten(ctx, worker, msg);
  if (worker.state === 'INACTIVE') ctx.fx.log('info', 'worker back', { worker: worker.id });
  setWorkerState(ctx, worker, MasterState.activeState(worker));
  assignJobs(ctx);
}

/** Attempts the worker runs that the master does not expect there. */
function adoptReported(ctx: Ctx, worker: WorkerEntry, msg: ClHello): void {
  for (const { job: jobId, attempt } of msg.running) {
    const job = ctx.state.jobs.get(jobId);
    // What makes the attempt unwanted (the job's status, a later attempt) was persisted in an
    // earlier step, if at all.
    const cancel = (reason: string) =>
      ctx.fx.publish(
        {
          to: worker.id,
          channel: 'jobs',
          message: { kind: 'CANCEL', job: jobId, attempt, reason },
        },
        { job: jobId },
      );
    if (!job || job.status === 'done' || job.status === 'failed' || job.status === 'removed') {
      cancel(job ? `job ${job.status}` : 'unknown job');
      continue;
    }
    if (attempt > job.attempts) {
      cancel('unknown attempt');
      continue;
    }
    if (job.live.get(attempt)?.worker === worker.id) continue;
    // An attempt the master had cut off is still running: rather than start the scan again,
    // take it back; if another attempt runs meanwhile, the first result to arrive wins.
    job.live.set(attempt, { worker: worker.id, deadline: deadlineFor(ctx, job), since: ctx.now });
    worker.running.set(job.id, attempt);
    if (job.status === 'pending') {
      ctx.state.setStatus(job, 'running');
      ctx.state.dequeue(job.id);
    }
    ctx.fx.persist({
      t: 'adopt',
      job: job.id,
      attempt,
      worker: worker.id,
      deadline: deadlineFor(ctx, job),
    });
    ctx.fx.log('info', 'attempt adopted', { job: job.id, attempt, worker: worker.id });
  }
}

/** Attempts the master expects on the worker that it neither runs nor holds results of. */
function dropForgotten(ctx: Ctx, worker: WorkerEntry, msg: ClHello): void {
  const reported = new Set<string>();
  for (const r of [...msg.running, ...msg.held]) reported.add(`${r.job}#${r.attempt}`);
  for (const [jobId, attempt] of [...worker.running]) {
    if (reported.has(`${jobId}#${attempt}`)) continue;
    const job = ctx.state.jobs.get(jobId);
    const live = job?.live.get(attempt);
    if (!job || !live || ctx.now - live.since < ctx.options.lostAfterMs) continue;
    cutoff(ctx, job, attempt, `worker ${worker.id} no longer runs it`, {
      cancel: false,
      head: true,
    });
  }
}
