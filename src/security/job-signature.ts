import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ScanmeshError } from '../errors.ts';
import type { Cancel } from '../protocol/messages/cancel.ts';
import type { Job } from '../protocol/messages/job.ts';

/**
 * Ed25519 signatures on what the master tells a worker to run (JOB) or stop (CANCEL). Pure: no
 * I/O, keys come in as KeyObjects (see master-key.ts).
 *
 * The signed bytes are a JSON array in a fixed order, never the message as received: JSON object
 * key order is up to the sender, so signing "the JSON" would tie the signature to one encoder.
 * They also hold the mesh's topic root and the worker the message is addressed to, which are not
 * in the message itself: without them a JOB captured on one worker's topic could be replayed to
 * another worker, or to another mesh pinned to the same master key.
 */

/** Where a signed message is valid: one mesh, one worker. */
export interface SignatureScope {
  topicRoot: string;
  worker: string;
}

export type Signable = Job | Cancel;

/** Bump when the signed bytes change shape, so old and new signatures never verify each other. */
const DOMAIN = 'scanmesh-sig/2';

/** An Ed25519 signature is 64 bytes: 88 base64 characters ending in "==". */
const SIG_PATTERN = /^[A-Za-z0-9+/]{86}==$/;

// If JOB or CANCEL gains a field, these stop compiling until `signedBytes` covers it: a field
// outside the signature is a field a forger may set freely.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const jobFieldsSigned: Same<
  keyof Job,
  'kind' | 'job' | 'attempt' | 'stamp' | 'args' | 'timeoutS' | 'sig'
> = true;
const cancelFieldsSigned: Same<keyof Cancel, 'kind' | 'job' | 'attempt' | 'reason' | 'sig'> = true;
void jobFieldsSigned;
void cancelFieldsSigned;

/** The exact bytes signed for `message` addressed to `scope.worker` on the mesh `scope.topicRoot`. */
export function signedBytes(message: Signable, scope: SignatureScope): Buffer {
  const head = [DOMAIN, scope.topicRoot, scope.worker, message.kind, message.job, message.attempt];
  const body =
    message.kind === 'JOB'
      ? [...head, message.stamp, message.args, message.timeoutS]
      : [...head, message.reason];
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** A copy of `message` carrying the master's signature (any previous `sig` is replaced). */
export function sign<M extends Signable>(
  message: M,
  privateKey: KeyObject,
  scope: SignatureScope,
): M & { sig: string } {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', 'jobs are signed with an Ed25519 private key');
  }
  const sig = edSign(null, signedBytes(message, scope), privateKey).toString('base64');
  return { ...message, sig };
}

/** Why `message` is not validly signed by `publicKey` for `scope`, or null when it is. */
export function signatureProblem(
  message: Signable,
  publicKey: KeyObject,
  scope: SignatureScope,
): string | null {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', 'jobs are verified with an Ed25519 public key');
  }
  if (message.sig === undefined) return 'unsigned';
  if (!SIG_PATTERN.test(message.sig)) return 'signature is not 64 bytes of base64';
  const ok = edVerify(
    null,
    signedBytes(message, scope),
    publicKey,
    Buffer.from(message.sig, 'base64'),
  );
  return ok ? null : 'signature does not match the pinned master key for this worker and mesh';
}

export function verify(message: Signable, publicKey: KeyObject, scope: SignatureScope): boolean {
  return signatureProblem(message, publicKey, scope) === null;
}

/** Throws SCANMESH_BAD_SIGNATURE, naming the message and the reason, unless validly signed. */
export function assertSigned(message: Signable, publicKey: KeyObject, scope: SignatureScope): void {
  const problem = signatureProblem(message, publicKey, scope);
  if (problem === null) return;
  throw new ScanmeshError(
    'SCANMESH_BAD_SIGNATURE',
    `${message.kind} ${message.job} attempt ${message.attempt} refused: ${problem}`,
  );
}
