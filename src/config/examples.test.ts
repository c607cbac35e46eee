import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from './load.ts';
import { masterSpec, workerSpec } from './roles.ts';
import type { Spec } from './spec.ts';

/**
 * The example configs are documentation people copy: each must load as it stands, name every key
 * its role has (so a new key cannot be added without documenting it) and explain each one.
 */
const examples: [string, Spec][] = [
  ['worker.yml', workerSpec],
  ['master.yml', masterSpec],
];
const pathOf = (name: string) =>
  fileURLToPath(new URL(`../../broker/examples/${name}`, import.meta.url));

/** Every dotted path of a leaf (a scalar, a list or an empty value) in a YAML document. */
function leafPaths(node: unknown, prefix = ''): string[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [prefix];
  return Object.entries(node).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe.each(examples)('broker/examples/%s', (name, spec) => {
  const file = pathOf(name);
  const text = readFileSync(file, 'utf8');

  it('loads through loadConfig (unknown or malformed keys would throw)', () => {
    const { sources } = loadConfig(spec, { flags: {}, env: {}, file });
    // Most keys come from the file, not the defaults: the example is not an empty shell.
    const fromFile = Object.values(sources).filter((s) => s === 'file').length;
    expect(fromFile).toBeGreaterThan(spec.length / 2);
  });

  it('names every key of its role, and nothing else', () => {
    expect(leafPaths(parse(text)).sort()).toEqual(spec.map((k) => k.file).sort());
  });

  it('has a comment right above every key', () => {
    const lines = text.split('\n');
    const uncommented = lines.flatMap((line, i) => {
      if (!/^\s+[a-z_]+:/.test(line)) return [];
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() === '') j -= 1;
      return lines[j]?.trim().startsWith('#') ? [] : [line.trim()];
    });
    expect(uncommented).toEqual([]);
  });
});
