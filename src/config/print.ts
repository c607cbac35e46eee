import { Document, Scalar, YAMLSeq } from 'yaml';
import type { Source } from './load.ts';
import type { KeySpec, Spec } from './spec.ts';

export const MASK = '****';

export interface EffectiveConfig {
  config: Record<string, unknown>;
  sources: Record<string, Source>;
  /** The config file that was read, if any. */
  file?: string;
  /** Values the process works out itself when a key is unset (a worker's id from its MAC). */
  derived?: Record<string, { value: unknown; how: string }>;
}

/**
 * The effective config as YAML in the config file's own shape, each key followed by where its
 * value came from. Secrets (and passwords inside URLs) are masked, so the output can be pasted
 * into a bug report; unmasked it would load back as a config file (unset keys are `null`).
 */
export function renderEffective(spec: Spec, role: string, e: EffectiveConfig): string {
  const doc = new Document({});
  doc.commentBefore = [
    ` effective ${role} config: flags > env > file > defaults`,
    ` file: ${e.file ?? '(none)'}`,
  ].join('\n');
  for (const k of spec) {
    const set = e.config[k.key] !== undefined;
    const derived = set ? undefined : e.derived?.[k.key];
    const value = set ? e.config[k.key] : (derived?.value ?? null);
    const node = doc.createNode(value === null ? null : shown(k, value)) as Scalar | YAMLSeq;
    if (node instanceof YAMLSeq) node.flow = true;
    const source = set ? describeSource(k, e.sources[k.key] ?? 'default') : 'unset';
    node.comment = ` ${derived ? `unset: ${derived.how}` : source}`;
    doc.setIn(k.file.split('.'), node);
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function shown(k: KeySpec, value: unknown): unknown {
  if (k.secret) return MASK;
  if (typeof value === 'string') return maskUrlPassword(value);
  return value;
}

function describeSource(k: KeySpec, source: Source): string {
  switch (source) {
    case 'flag':
      return `flag ${k.flag.split(' ')[0]}`;
    case 'env':
      return `env ${k.env}`;
    default:
      return source;
  }
}

/** `http://user:pass@host` → `http://user:****@host`; anything else unchanged. */
export function maskUrlPassword(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = MASK;
    return url.toString().replace(/\/$/, value.endsWith('/') ? '/' : '');
  } catch {
    return value;
  }
}
