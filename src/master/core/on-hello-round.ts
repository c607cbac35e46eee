import type { Ctx } from './context.ts';
import { startDueRuns } from './on-schedules.ts';
import { assignJobs, cutoff, markInactive } from './scheduling.ts';

/**
 * Every hello interval: count one more unanswered round for every worker, give up on those that
 * missed too many and on attempts past their deadline, then ask everyone again with S_HELLO;
 * start the recurring runs that are due.
 */
export function onHelloRound(ctx: Ctx): void {
  const { state, options } = ctx;
  state.round += 1;
  for (const worker of state.workers.values()) {
    if (worker.state === 'INACTIVE' || ctx.now < worker.graceUntil) continue;
    worker.counter += 1;
    if (worker.counter > options.maxMissedRounds) {
      markInactive(ctx, worker, `no answer to ${options.maxMissedRounds} S_HELLO rounds`);
    }
  }
  for (const job of state.jobs.values()) {
    if (job.status !== 'running') continue;
    for (const [attempt, live] of [...job.live]) {
      if (ctx.now > live.deadline) {
        cutoff(ctx, job, attempt, `no result by the deadline (timeout ${job.timeoutS}s + grace)`, {
          cancel: true,
          head: false,
        });
      }
    }
  }
  ctx.fx.publish(
    {
      to: 'all',
      channel: 'hello',
      message: { kind: 'S_HELLO', master: options.masterId, round: state.round, ts: ctx.now },
    },
    [],
  );
  startDueRuns(ctx);
  assignJobs(ctx);
}
