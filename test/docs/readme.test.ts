import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.ts';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

describe('README', () => {
  it('lists every error code with the meaning src/errors.ts gives it', () => {
    const table = new Map(
      [...README.matchAll(/^\| `(SCANMESH_[A-Z_]+)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.fromEntries(table)).toEqual(ErrorCodes);
  });
});
