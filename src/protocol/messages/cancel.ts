import { z } from 'zod';
import { attempt, jobId, shortText } from './common.ts';

/** Master → one worker: stop this attempt; its results are no longer wanted. */
export const cancel = z.strictObject({
  kind: z.literal('CANCEL'),
  job: jobId,
  attempt,
  reason: shortText,
});
export type Cancel = z.infer<typeof cancel>;
