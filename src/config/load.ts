import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ScanmeshError } from '../errors.ts';
import type { Spec } from './spec.ts';

export type Source = 'default' | 'file' | 'env' | 'flag';

export interface LoadInput {
  /** Values commander parsed, by key; undefined where the flag was not given. */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** YAML config file, if one is named or found. */
  file?: string;
}

export interface Loaded<C> {
  config: C;
  sources: Record<string, Source>;
}

/**
 * Merge defaults → file → env → flags, then validate every key once. Errors name the key, where
 * its value came from, and what was expected; unknown keys in the file are refused.
 */
export function loadConfig<C>(spec: Spec, input: LoadInput): Loaded<C> {
  const raw: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const set = (k: string, v: unknown, s: Source) => {
    if (v === undefined) return;
    raw[k] = v;
    sources[k] = s;
  };
  for (const k of spec) set(k.key, k.default, 'default');
  if (input.file) {
    const fromFile = readConfigFile(input.file, spec);
    for (const k of spec) set(k.key, fromFile.get(k.file), 'file');
  }
  for (const k of spec) {
    const v = input.env[k.env];
    set(k.key, v === '' ? undefined : v, 'env');
  }
  for (const k of spec) set(k.key, input.flags[k.key], 'flag');

  const config: Record<string, unknown> = {};
  for (const k of spec) {
    if (raw[k.key] === undefined) continue;
    const result = k.schema.safeParse(raw[k.key]);
    if (!result.success) {
      const from = describeSource(k, sources[k.key] ?? 'default', input.file);
      const why = result.error.issues[0]?.message ?? 'invalid';
      throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${k.flag.split(' ')[0]} (${from}): ${why}`);
    }
    config[k.key] = result.data;
  }
  return { config: config as C, sources };
}

function describeSource(k: Spec[number], source: Source, file: string | undefined): string {
  switch (source) {
    case 'flag':
      return `flag ${k.flag.split(' ')[0]}`;
    case 'env':
      return `env ${k.env}`;
    case 'file':
      return `${file}: ${k.file}`;
    default:
      return 'default';
  }
}

function readConfigFile(path: string, spec: Spec): Map<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `config file ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const known = new Set(spec.map((k) => k.file));
  const values = new Map<string, unknown>();
  const walk = (node: unknown, prefix: string) => {
    if (node === null || node === undefined) return;
    if (typeof node !== 'object' || Array.isArray(node) || known.has(prefix)) {
      if (!known.has(prefix)) {
        throw new ScanmeshError(
          'SCANMESH_BAD_CONFIG',
          `config file ${path}: unknown key ${prefix}`,
        );
      }
      values.set(prefix, node);
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(doc, '');
  return values;
}
