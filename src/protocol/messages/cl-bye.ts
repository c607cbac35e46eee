import { z } from 'zod';
import { workerId } from './common.ts';

/** The worker's MQTT last will: the broker publishes it when the worker's connection drops. */
export const clBye = z.strictObject({
  kind: z.literal('CL_BYE'),
  worker: workerId,
});
export type ClBye = z.infer<typeof clBye>;
