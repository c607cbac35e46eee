import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { decode } from './codec.ts';

/** What decode throws for `payload`, which must be SCANMESH_BAD_MESSAGE. */
function refusal(payload: string): string {
  try {
    decode(payload, ['CL_BYE', 'CANCEL']);
  } catch (err) {
    if (isScanmeshError(err, 'SCANMESH_BAD_MESSAGE')) return err.message;
    throw err;
  }
  throw new Error('accepted');
}

describe('decode, against hostile payloads (found by test/fuzz)', () => {
  it('refuses a deeply nested kind with a ScanmeshError, not a stack overflow', () => {
    const deep = 100_000;
    expect(refusal(`{"kind":${'['.repeat(deep)}${']'.repeat(deep)}}`)).toBe(
      'kind of type array is not one of CL_BYE, CANCEL',
    );
    expect(refusal(`{"kind":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}`)).toMatch(
      /of type object/,
    );
    expect(refusal('{"worker":"w1"}')).toMatch(/^kind \(missing\)/);
  });

  it('keeps reasons short whatever the sender echoes into them', () => {
    const kind = refusal(`{"kind":"${'K'.repeat(500_000)}"}`);
    expect(kind.length).toBeLessThan(300);
    expect(kind).toContain('(500002 chars)');
    const key = refusal(`{"kind":"CL_BYE","worker":"w1","${'k'.repeat(500_000)}":1}`);
    expect(key.length).toBeLessThan(300);
  });

  it('refuses prototype-pollution keys at any depth, and pollutes nothing', () => {
    for (const payload of [
      '{"kind":"CL_BYE","worker":"w1","__proto__":{"polluted":"yes"}}',
      '{"kind":"CANCEL","job":"j-1","attempt":1,"reason":"x","constructor":{"prototype":{"polluted":"yes"}}}',
      '{"kind":"CL_BYE","worker":"w1","prototype":{"polluted":"yes"}}',
    ]) {
      expect(refusal(payload)).toMatch(/Unrecognized key: "(__proto__|constructor|prototype)"/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
