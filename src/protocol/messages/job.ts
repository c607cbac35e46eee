import { z } from 'zod';
import { attempt, jobId, longText } from './common.ts';

/** Master → one worker: run these nmap arguments. The worker adds `-oX -` itself. */
export const job = z.strictObject({
  kind: z.literal('JOB'),
  job: jobId,
  attempt,
  /**
   * Above every stamp the master gave before, to any worker, across its restarts (the master's
   * clock in ms, or one more than the last stamp when that is ahead). A worker runs a JOB only if
   * its stamp is above the highest it has accepted: a captured JOB replayed later is refused.
   */
  stamp: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  args: z.array(z.string().max(4096)).min(1).max(256),
  timeoutS: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  /** Ed25519 signature by the master over the other fields (see the security issue). */
  sig: longText.optional(),
});
export type Job = z.infer<typeof job>;
