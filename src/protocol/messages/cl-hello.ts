import { z } from 'zod';
import { jobRef, shortText, workerId } from './common.ts';

/**
 * Worker → master: "I am here, this is what I have". Sent on (re)connect and in answer to S_HELLO.
 * `running` and `held` let a restarted master adopt work instead of running it again.
 */
export const clHello = z.strictObject({
  kind: z.literal('CL_HELLO'),
  worker: workerId,
  nmap: shortText,
  slots: z.number().int().min(1).max(64),
  running: z.array(jobRef).max(64),
  /** Attempts whose results the worker holds but the master has not acknowledged in full. */
  held: z.array(jobRef).max(10_000),
});
export type ClHello = z.infer<typeof clHello>;
