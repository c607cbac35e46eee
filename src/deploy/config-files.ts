import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.ts';
import type { Spec } from '../config/spec.ts';
import { ScanmeshError } from '../errors.ts';

/**
 * An installed config file is the documented example (broker/examples/<role>.yml) with the
 * installer's values filled in: the same comments explain every key on the Pi as in the repo.
 * Keys the installer does not set are left empty, which means "the default".
 */
export function exampleConfig(role: 'worker' | 'master'): string {
  return readFileSync(
    fileURLToPath(new URL(`../../broker/examples/${role}.yml`, import.meta.url)),
    'utf8',
  );
}

/**
 * Line by line rather than through a YAML syntax tree: the parser hangs a comment that follows
 * an empty value on that value, and rewriting the tree then moves or drops it. The examples are
 * plain two-level maps (`section:` then `  key: value`), which the test of the examples keeps so.
 */
export function renderConfig(
  template: string,
  spec: Spec,
  values: Record<string, unknown>,
): string {
  // Validated as flags would be, so a bad --broker-url is refused with the flag's name, now,
  // not by the service at its first start.
  loadConfig(spec, { flags: values, env: {} });
  const byPath = new Map(spec.map((k) => [k.file, k]));
  const seen = new Set<string>();
  let section = '';
  const lines = template.split('\n').map((line) => {
    const head = /^([a-z_]+):\s*$/.exec(line);
    if (head) section = head[1]!;
    const entry = /^( +)([a-z_]+):/.exec(line);
    const k = entry ? byPath.get(`${section}.${entry[2]}`) : undefined;
    if (!entry || !k) return line;
    seen.add(k.file);
    return `${entry[1]}${entry[2]}:${yamlValue(values[k.key])}`;
  });
  const missing = spec.filter((k) => !seen.has(k.file)).map((k) => k.file);
  if (missing.length > 0) {
    throw new ScanmeshError(
      'SCANMESH_INSTALL_FAILED',
      `the config template lacks ${missing.join(', ')}: broker/examples is out of date`,
    );
  }
  return lines.join('\n');
}

function yamlValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false });
  return ` ${text.trimEnd()}`;
}
