import type { Ctx } from './context.ts';
import { assignJobs, finishJob } from './scheduling.ts';
import type { CommandEntry, JobEntry } from './types.ts';

export function newJob(seq: number, entry: CommandEntry): JobEntry {
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
  };
}

/**
 * The commands file as it stands now. Lines not seen before become jobs; pending jobs whose line
 * is gone are withdrawn. Jobs already running or ended are left as they are: their line going
 * away does not undo a scan that happened.
 */
export function onCommands(ctx: Ctx, entries: readonly CommandEntry[]): void {
  const { state } = ctx;
  const present = new Set<string>();
  for (const entry of entries) {
    present.add(entry.id);
    if (state.jobs.has(entry.id)) continue;
    const job = newJob(state.nextSeq++, entry);
    state.addJob(job);
    state.queue.push(job.id);
    ctx.fx.persist({
      t: 'job',
      id: job.id,
      seq: job.seq,
      command: job.command,
      args: job.args,
      timeoutS: job.timeoutS,
      ...(job.parent ? { parent: job.parent } : {}),
    });
    ctx.fx.log('info', 'job queued', { job: job.id, command: job.command });
  }
  for (const job of state.jobs.values()) {
    if (job.status === 'pending' && !present.has(job.id)) {
      finishJob(ctx, job, 'removed', 'line removed from the commands file');
    }
  }
  assignJobs(ctx);
}
