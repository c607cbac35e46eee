import { z } from 'zod';
import { attempt, jobId } from './common.ts';

/**
 * Master → one worker: this exact DATA part (job, attempt, seq) is durably stored, or was already,
 * or is no longer wanted. In every case the worker may delete it from its spool.
 */
export const DATA_ACK_OUTCOMES = ['stored', 'duplicate', 'stale'] as const;

export const dataAck = z.strictObject({
  kind: z.literal('DATA_ACK'),
  job: jobId,
  attempt,
  seq: z.number().int().min(0),
  outcome: z.enum(DATA_ACK_OUTCOMES),
});
export type DataAck = z.infer<typeof dataAck>;
