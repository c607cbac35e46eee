import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { referenceTable } from '../../src/config/reference.ts';
import { masterSpec, workerSpec } from '../../src/config/roles.ts';
import { ErrorCodes } from '../../src/errors.ts';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

describe('README', () => {
  it('lists every error code with the meaning src/errors.ts gives it', () => {
    const table = new Map(
      [...README.matchAll(/^\| `(SCANMESH_[A-Z_]+)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.fromEntries(table)).toEqual(ErrorCodes);
  });

  it('holds the configuration table `scanmesh config reference` prints, row for row', () => {
    const rows = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => line.split('|').map((cell) => cell.trim()));
    const printed = rows(referenceTable({ worker: workerSpec, master: masterSpec }));
    const configRows = rows(README).filter((r) => /^`[a-z_]+\.[a-z_]+`$/.test(r[1] ?? ''));
    expect(configRows).toEqual(printed);
  });
});
