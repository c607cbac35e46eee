import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { decode, encode } from '../protocol/codec.ts';
import type { Cancel } from '../protocol/messages/cancel.ts';
import type { Job } from '../protocol/messages/job.ts';
import { assertSigned, sign, signatureProblem, signedBytes, verify } from './job-signature.ts';

const master = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const scope = { topicRoot: 'scanmesh/v1/', worker: 'w1' };
const job: Job = {
  kind: 'JOB',
  job: 'j-abc-1',
  attempt: 1,
  stamp: 1_700_000_000_000,
  args: ['-sT', '-p', '22', '127.0.0.1'],
  timeoutS: 60,
};
const cancel: Cancel = { kind: 'CANCEL', job: 'j-abc-1', attempt: 1, reason: 'job done' };

describe('job signatures', () => {
  it('a signed JOB and CANCEL verify, and survive the wire (encode → decode)', () => {
    for (const m of [job, cancel]) {
      const signed = sign(m, master.privateKey, scope);
      expect(signed.sig).toMatch(/^[A-Za-z0-9+/]{86}==$/);
      const back = decode(encode(signed), ['JOB', 'CANCEL']);
      expect(verify(back, master.publicKey, scope)).toBe(true);
    }
  });

  it('the signed bytes do not depend on the key order the sender used', () => {
    const reordered = JSON.parse(
      '{"timeoutS":60,"args":["-sT","-p","22","127.0.0.1"],"stamp":1700000000000,"attempt":1,"job":"j-abc-1","kind":"JOB"}',
    ) as Job;
    expect(signedBytes(reordered, scope)).toEqual(signedBytes(job, scope));
    const signed = sign(job, master.privateKey, scope);
    expect(verify({ ...reordered, sig: signed.sig }, master.publicKey, scope)).toBe(true);
  });

  it('refuses unsigned messages, other keys, and malformed signatures', () => {
    expect(signatureProblem(job, master.publicKey, scope)).toBe('unsigned');
    const forged = sign(job, other.privateKey, scope);
    expect(verify(forged, master.publicKey, scope)).toBe(false);
    expect(verify({ ...job, sig: 'AAAA' }, master.publicKey, scope)).toBe(false);
    expect(verify({ ...job, sig: 'A'.repeat(86) + '==' }, master.publicKey, scope)).toBe(false);
  });

  it('binds the signature to the worker, the topic root and every field', () => {
    const signed = sign(job, master.privateKey, scope);
    expect(verify(signed, master.publicKey, { ...scope, worker: 'w2' })).toBe(false);
    expect(verify(signed, master.publicKey, { ...scope, topicRoot: 'other/v1/' })).toBe(false);
    const tampered: Job[] = [
      { ...signed, job: 'j-abc-2' },
      { ...signed, attempt: 2 },
      // A replay with a fresh stamp would pass the worker's stamp check.
      { ...signed, stamp: signed.stamp + 1 },
      { ...signed, args: ['-sT', '-p', '23', '127.0.0.1'] },
      { ...signed, args: [...signed.args, '127.0.0.2'] },
      { ...signed, timeoutS: 61 },
    ];
    for (const t of tampered) expect(verify(t, master.publicKey, scope)).toBe(false);
    const signedCancel = sign(cancel, master.privateKey, scope);
    expect(verify({ ...signedCancel, reason: 'other' }, master.publicKey, scope)).toBe(false);
    expect(verify({ ...signedCancel, attempt: 2 }, master.publicKey, scope)).toBe(false);
  });

  it('a JOB signature does not pass as a CANCEL of the same attempt', () => {
    const signed = sign(job, master.privateKey, scope);
    expect(verify({ ...cancel, sig: signed.sig }, master.publicKey, scope)).toBe(false);
  });

  it('assertSigned throws SCANMESH_BAD_SIGNATURE naming the job', () => {
    let caught: unknown;
    try {
      assertSigned(job, master.publicKey, scope);
    } catch (err) {
      caught = err;
    }
    expect(isScanmeshError(caught, 'SCANMESH_BAD_SIGNATURE')).toBe(true);
    expect((caught as Error).message).toContain('j-abc-1');
    expect(() =>
      assertSigned(sign(job, master.privateKey, scope), master.publicKey, scope),
    ).not.toThrow();
  });

  it('refuses to sign with a public key or verify with a private one', () => {
    expect(() => sign(job, master.publicKey, scope)).toThrow(/private key/);
    expect(() => verify(job, master.privateKey, scope)).toThrow(/public key/);
  });
});
