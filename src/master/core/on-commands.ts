import type { Ctx } from './context.ts';
import { assignJobs, finishJob } from './scheduling.ts';
import { startDueRuns, updateSchedules } from './on-schedules.ts';
import type { CommandEntry, JobEntry, RunRef } from './types.ts';

export function newJob(seq: number, entry: CommandEntry, run: RunRef | null = null): JobEntry {
  return {
    id: entry.id,
    seq,
    command: entry.command,
    args: entry.args,
    timeoutS: entry.timeoutS,
    status: 'pending',
    attempts: 0,
    live: new Map(),
    receipts: new Map(),
    doneAttempt: null,
    reason: '',
    parent: entry.parent ?? null,
    run,
  };
}

/** Creates a pending job at the end of the queue, durably. */
export function queueJob(ctx: Ctx, entry: CommandEntry, run: RunRef | null = null): JobEntry {
  const { state } = ctx;
  const job = newJob(state.nextSeq++, entry, run);
  state.addJob(job);
  state.pending.push(job.id);
  ctx.fx.persist({
    t: 'job',
    id: job.id,
    seq: job.seq,
    command: job.command,
    args: job.args,
    timeoutS: job.timeoutS,
    ...(job.parent ? { parent: job.parent } : {}),
    ...(run ? { run } : {}),
  });
  ctx.fx.log('info', 'job queued', { job: job.id, command: job.command });
  return job;
}

/** A job withdrawn with its line, whose line is back: pending again, at the end of the queue. */
function requeueRemoved(ctx: Ctx, job: JobEntry): void {
  ctx.state.setStatus(job, 'pending');
  job.reason = '';
  ctx.state.pending.push(job.id);
  ctx.fx.persist({ t: 'status', job: job.id, status: 'pending', reason: '' });
  ctx.fx.log('info', 'job queued again: its line is back', { job: job.id, command: job.command });
}

/**
 * The commands file as it stands now. Lines not seen before become jobs (recurring lines become
 * schedules, whose runs make the jobs); pending jobs whose line is gone are withdrawn, and
 * queued again if it comes back. Jobs
 * already running or ended are left as they are: their line going away does not undo a scan that
 * happened.
 */
export function onCommands(ctx: Ctx, entries: readonly CommandEntry[]): void {
  const { state } = ctx;
  const present = new Set<string>();
  updateSchedules(
    ctx,
    entries.filter((e) => e.schedule),
  );
  for (const entry of entries) {
    if (entry.schedule) continue;
    present.add(entry.id);
    const known = state.jobs.get(entry.id);
    if (!known) queueJob(ctx, entry);
    else if (known.status === 'removed') requeueRemoved(ctx, known);
  }
  for (const job of state.jobs.values()) {
    // A run's jobs go with their schedule (updateSchedules).
    if (job.status === 'pending' && !job.run && !present.has(job.id)) {
      finishJob(ctx, job, 'removed', 'line removed from the commands file');
    }
  }
  startDueRuns(ctx);
  assignJobs(ctx);
}
