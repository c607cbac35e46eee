import { z } from 'zod';
import { shortText } from './common.ts';

/** Master → all workers: "who is there?". Sent on (re)connect and every hello interval. */
export const sHello = z.strictObject({
  kind: z.literal('S_HELLO'),
  master: shortText,
  round: z.number().int().min(0),
  ts: z.number().int().min(0),
});
export type SHello = z.infer<typeof sHello>;
