import { z } from 'zod';
import { attempt, jobId, longText } from './common.ts';

/** Master → one worker: run these nmap arguments. The worker adds `-oX -` itself. */
export const job = z.strictObject({
  kind: z.literal('JOB'),
  job: jobId,
  attempt,
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
