import { z } from 'zod';
import { attempt, jobId, longText, workerId } from './common.ts';
import { hostResult, runStats, scanMeta } from './host-result.ts';

/**
 * Worker → master: one finished host (`part: "host"`, seq 0..n-1) as nmap reports it, then one
 * `part: "end"` with seq n. A scan is never one message, so a /16 sweep stays within packet limits,
 * and each part is acknowledged on its own so a resend repeats only what was lost.
 */
const base = {
  kind: z.literal('DATA'),
  worker: workerId,
  job: jobId,
  attempt,
  seq: z.number().int().min(0).max(10_000_000),
};

export const dataHost = z.strictObject({
  ...base,
  part: z.literal('host'),
  host: hostResult,
});

export const SCAN_STATUSES = ['completed', 'failed', 'timeout'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export const dataEnd = z.strictObject({
  ...base,
  part: z.literal('end'),
  status: z.enum(SCAN_STATUSES),
  exitCode: z.number().int().nullable(),
  error: longText,
  /** Error code when the worker itself refused or failed the attempt (e.g. SCANMESH_OUT_OF_SCOPE). */
  code: z.string().max(64),
  meta: scanMeta.nullable(),
  stats: runStats.nullable(),
  /** Worker clock, Unix milliseconds: when nmap started and when the attempt ended. */
  startedAt: z.number().int().min(0),
  finishedAt: z.number().int().min(0),
});

export const data = z.discriminatedUnion('part', [dataHost, dataEnd]);
export type DataHost = z.infer<typeof dataHost>;
export type DataEnd = z.infer<typeof dataEnd>;
export type Data = z.infer<typeof data>;

/** Stable key of one DATA part, used by spools, stores and acks alike. */
export function partKey(job: string, attempt: number, seq: number): string {
  return `${job}#${attempt}#${seq}`;
}
