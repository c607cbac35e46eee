import type { ClBye } from '../../protocol/messages/cl-bye.ts';
import type { Ctx } from './context.ts';
import { assignJobs, markInactive } from './scheduling.ts';

/** CL_BYE, the worker's last will: its connection dropped, so waiting two rounds is pointless. */
export function onClBye(ctx: Ctx, msg: ClBye): void {
  const worker = ctx.state.workers.get(msg.worker);
  if (!worker) return;
  markInactive(ctx, worker, 'connection lost');
  assignJobs(ctx);
}
