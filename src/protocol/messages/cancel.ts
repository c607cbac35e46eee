import { z } from 'zod';
import { attempt, jobId, longText, shortText } from './common.ts';

/** Master → one worker: stop this attempt; its results are no longer wanted. */
export const cancel = z.strictObject({
  kind: z.literal('CANCEL'),
  job: jobId,
  attempt,
  reason: shortText,
  /** Ed25519 signature by the master, as on JOB: a forged CANCEL must not stop scans. */
  sig: longText.optional(),
});
export type Cancel = z.infer<typeof cancel>;
