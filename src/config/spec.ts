import { z } from 'zod';

/**
 * One configuration key: where it comes from (flag, env var, config file path), its default and
 * its validation. Every key is described once, here and in the role files, and nowhere else.
 */
export interface KeySpec<T = unknown> {
  /** camelCase name in the validated config object. */
  key: string;
  /** commander flag, e.g. `--broker-url <url>`. */
  flag: string;
  /** Environment variable, e.g. SCANMESH_BROKER_URL. */
  env: string;
  /** Path in the YAML config file, e.g. `broker.url`. */
  file: string;
  describe: string;
  schema: z.ZodType<T>;
  default?: T;
  /** Masked by `config print` and in logs. */
  secret?: boolean;
}

export type Spec = readonly KeySpec[];

const csv = (v: unknown) =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

export const t = {
  string: () => z.string().min(1),
  port: () => z.coerce.number().int().min(0).max(65_535),
  positiveInt: (max = 1_000_000) => z.coerce.number().int().min(1).max(max),
  seconds: () =>
    z.coerce
      .number()
      .positive()
      .max(7 * 24 * 3600),
  list: () => z.preprocess(csv, z.array(z.string().min(1))),
  url: (schemes: string[]) =>
    z
      .string()
      .url()
      .refine((u) => schemes.some((s) => u.startsWith(`${s}://`)), {
        message: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`,
      }),
  flag: () =>
    z.preprocess((v) => {
      if (v === 'true' || v === '1' || v === 'yes') return true;
      if (v === 'false' || v === '0' || v === 'no') return false;
      return v;
    }, z.boolean()),
  level: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
};

export function key<T>(spec: KeySpec<T>): KeySpec {
  return spec as KeySpec;
}
