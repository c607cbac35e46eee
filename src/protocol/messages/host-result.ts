import { z } from 'zod';
import type { HostResult, RunStats, ScanMeta } from '../../nmap/result.ts';
import { longText, shortText } from './common.ts';

const script = z.strictObject({ id: shortText, output: longText });
const int = z.number().int();

const port = z.strictObject({
  protocol: shortText,
  port: int.min(0).max(65_535),
  state: shortText,
  reason: shortText,
  service: shortText,
  product: shortText,
  version: shortText,
  extrainfo: shortText,
  cpe: z.array(shortText).max(64),
  scripts: z.array(script).max(256),
});

export const hostResult = z.strictObject({
  address: z.string().min(1).max(64),
  addresses: z
    .array(
      z.strictObject({
        addr: z.string().max(64),
        type: z.enum(['ipv4', 'ipv6', 'mac']),
        vendor: shortText,
      }),
    )
    .max(16),
  hostnames: z.array(z.strictObject({ name: shortText, type: shortText })).max(64),
  state: z.enum(['up', 'down', 'unknown']),
  reason: shortText,
  latencyMs: z.number().min(0).nullable(),
  ports: z.array(port).max(65_536 * 2),
  extraPorts: z.array(z.strictObject({ state: shortText, count: int.min(0) })).max(16),
  os: z.array(z.strictObject({ name: shortText, accuracy: int.min(0).max(100) })).max(64),
  scripts: z.array(script).max(256),
  startTime: int.min(0).nullable(),
  endTime: int.min(0).nullable(),
}) satisfies z.ZodType<HostResult>;

export const scanMeta = z.strictObject({
  nmapVersion: shortText,
  args: longText,
  start: int.min(0),
  scanInfo: z
    .array(
      z.strictObject({
        type: shortText,
        protocol: shortText,
        numServices: int.min(0),
        services: longText,
      }),
    )
    .max(8),
}) satisfies z.ZodType<ScanMeta>;

export const runStats = z.strictObject({
  end: int.min(0).nullable(),
  elapsedS: z.number().min(0).nullable(),
  exit: shortText,
  errorMessage: longText,
  summary: longText,
  hostsUp: int.min(0),
  hostsDown: int.min(0),
  hostsTotal: int.min(0),
}) satisfies z.ZodType<RunStats>;
