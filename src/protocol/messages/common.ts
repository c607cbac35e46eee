import { z } from 'zod';
import { WORKER_ID_PATTERN } from '../topics.ts';

/** Job ids are made by the master: `j-<hash>-<n>`, with `.r<run>` for recurring runs. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const workerId = z.string().regex(WORKER_ID_PATTERN);
export const jobId = z.string().regex(JOB_ID_PATTERN);
export const attempt = z.number().int().min(1).max(1000);
export const shortText = z.string().max(256);
export const longText = z.string().max(65_536);

/** A job attempt, the unit that results and acks name. */
export const jobRef = z.strictObject({ job: jobId, attempt });
export type JobRef = z.infer<typeof jobRef>;
