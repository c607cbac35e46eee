/**
 * What the mesh fuzz test sends: a topic, a payload, and the error code the receiver must log
 * when it drops it. Topics are exactly those the master (workers/+/hello|bye|data) and the worker
 * (master/hello, workers/<id>/jobs|ack) subscribe to, so every case is delivered to one of them.
 */
import type { KeyObject } from 'node:crypto';
import type { ErrorCode } from '../../src/errors.ts';
import type { Cancel } from '../../src/protocol/messages/cancel.ts';
import type { Job } from '../../src/protocol/messages/job.ts';
import { sign } from '../../src/security/job-signature.ts';
import * as P from './payloads.ts';
import type { Prng } from './prng.ts';

export type Target = 'master' | 'worker';

export interface FuzzCase {
  target: Target;
  topic: string;
  /** The topic as the receiver subscribed to it, for the printed counts. */
  family: string;
  payload: string | Buffer;
  expect: ErrorCode;
  /** How the payload was made, for a failure message. */
  how: string;
}

export interface CaseContext {
  /** The worker under test. */
  worker: string;
  /** The master's real signing key: used only to sign messages that are then spoiled. */
  masterKey: KeyObject;
  strangerKey: KeyObject;
}

const MUTATOR_WEIGHTS: [number, string][] = [
  [10, 'drop-field'],
  [10, 'unknown-key'],
  [10, 'wrong-type'],
  [8, 'out-of-range'],
  [8, 'truncated'],
  [4, 'duplicate-key'],
  [1, 'byte-order-mark'],
  [1, 'huge-string'],
  [0.4, 'deep-nesting'],
  [0.05, 'oversize'],
];

type Make = (r: Prng) => P.Json;

function mutated(r: Prng, message: P.Json): { payload: string | Buffer; how: string } {
  const name = r.weighted(MUTATOR_WEIGHTS);
  return { payload: P.MUTATORS[name]!(r, message as never), how: `mutated: ${name}` };
}

/** One refused payload for a topic that takes `make`'s kind, `others` being kinds it does not. */
function refused(r: Prng, make: Make, others: Make[]) {
  return r.weighted<() => { payload: string | Buffer; how: string }>([
    [85, () => mutated(r, make(r))],
    [9, () => ({ payload: P.garbage(r), how: 'garbage' })],
    [6, () => ({ payload: JSON.stringify(r.pick(others)(r)), how: 'another kind' })],
  ])();
}

const MASTER_CHANNELS = {
  hello: (r: Prng, id: string) => P.clHello(r, id),
  bye: (_r: Prng, id: string) => P.clBye(id),
  data: (r: Prng, id: string) => P.data(r, id),
} as const;
type MasterChannel = keyof typeof MASTER_CHANNELS;

function masterCase(r: Prng, ctx: CaseContext): FuzzCase {
  const channel = r.pick(Object.keys(MASTER_CHANNELS) as MasterChannel[]);
  const make = MASTER_CHANNELS[channel];
  const family = `${P.ROOT}workers/+/${channel}`;
  const others: Make[] = [P.job, P.cancel, P.dataAck, P.sHello];
  for (const [c, m] of Object.entries(MASTER_CHANNELS)) {
    if (c !== channel) others.push((r2) => m(r2, ctx.worker));
  }
  if (r.chance(0.04)) {
    // A level `+` matches that is no worker id: refused before the payload is even read.
    const id = r.pick(P.BAD_TOPIC_IDS);
    const payload = r.chance(0.5) ? JSON.stringify(make(r, ctx.worker)) : P.garbage(r);
    const topic = `${P.ROOT}workers/${id}/${channel}`;
    return {
      target: 'master',
      topic,
      family,
      payload,
      expect: 'SCANMESH_BAD_TOPIC',
      how: 'bad id',
    };
  }
  // The real worker's topics get their share: garbage there must not touch its state either.
  const id = r.chance(0.25) ? ctx.worker : P.workerId(r);
  const topic = `${P.ROOT}workers/${id}/${channel}`;
  if (r.chance(0.1)) {
    let other = P.workerId(r);
    while (other === id) other = P.workerId(r);
    const payload = JSON.stringify(make(r, other));
    const how = `names ${other}`;
    return { target: 'master', topic, family, payload, expect: 'SCANMESH_IDENTITY_MISMATCH', how };
  }
  const { payload, how } = refused(r, (r2) => make(r2, id), others);
  return { target: 'master', topic, family, payload, expect: 'SCANMESH_BAD_MESSAGE', how };
}

/** A JOB or CANCEL that is well formed but not validly signed for this worker and mesh. */
function badlySigned(r: Prng, ctx: CaseContext): { payload: string; how: string } {
  const message = (r.chance(0.7) ? P.job(r) : P.cancel(r)) as unknown as Job | Cancel;
  const forMe = { topicRoot: P.ROOT, worker: ctx.worker };
  const spoil = r.weighted<[string, () => Job | Cancel]>([
    [3, ['unsigned', () => message]],
    [2, ['stranger key', () => sign(message, ctx.strangerKey, forMe)]],
    [
      2,
      [
        'for another worker',
        () => sign(message, ctx.masterKey, { ...forMe, worker: `${ctx.worker}-b` }),
      ],
    ],
    [1, ['for another mesh', () => sign(message, ctx.masterKey, { ...forMe, topicRoot: 'x/' })]],
    [3, ['tampered after signing', () => tamper(r, sign(message, ctx.masterKey, forMe))]],
    [1, ['random signature', () => ({ ...message, sig: r.bytes(64).toString('base64') })]],
    [1, ['malformed signature', () => ({ ...message, sig: r.text(r.int(100), 'AZaz09+/=!') })]],
  ]);
  return { payload: JSON.stringify(spoil[1]()), how: `signature: ${spoil[0]}` };
}

/** Change one signed field to another valid value. */
function tamper(r: Prng, m: Job | Cancel): Job | Cancel {
  const attempt = (m.attempt % 1000) + 1;
  if (m.kind === 'CANCEL') {
    return r.chance(0.5) ? { ...m, attempt } : { ...m, reason: `${m.reason}!` };
  }
  return r.pick<Job>([
    { ...m, attempt },
    { ...m, job: `${m.job}0` },
    { ...m, timeoutS: m.timeoutS === 1 ? 2 : m.timeoutS - 1 },
    { ...m, args: [...m.args.slice(0, -1), '127.0.0.2'] },
    { ...m, args: ['-sV', ...m.args] },
  ]);
}

function workerCase(r: Prng, ctx: CaseContext): FuzzCase {
  const jobs = `${P.ROOT}workers/${ctx.worker}/jobs`;
  return r.weighted<() => FuzzCase>([
    [
      5,
      () => {
        if (r.chance(0.3)) {
          const { payload, how } = badlySigned(r, ctx);
          return {
            target: 'worker',
            topic: jobs,
            family: jobs,
            payload,
            how,
            expect: 'SCANMESH_BAD_SIGNATURE',
          };
        }
        // Mutating a correctly signed message too: the schema must refuse it before anything else.
        const make: Make = (r2) => {
          const m = (r2.chance(0.7) ? P.job(r2) : P.cancel(r2)) as unknown as Job | Cancel;
          const scope = { topicRoot: P.ROOT, worker: ctx.worker };
          return (r2.chance(0.5) ? sign(m, ctx.masterKey, scope) : m) as unknown as P.Json;
        };
        const others: Make[] = [P.dataAck, P.sHello, (r2) => P.clHello(r2, ctx.worker)];
        const { payload, how } = refused(r, make, others);
        return {
          target: 'worker',
          topic: jobs,
          family: jobs,
          payload,
          how,
          expect: 'SCANMESH_BAD_MESSAGE',
        };
      },
    ],
    [
      3,
      () => {
        const topic = `${P.ROOT}workers/${ctx.worker}/ack`;
        const { payload, how } = refused(r, P.dataAck, [
          P.job,
          P.sHello,
          (r2) => P.data(r2, ctx.worker),
        ]);
        return {
          target: 'worker',
          topic,
          family: topic,
          payload,
          how,
          expect: 'SCANMESH_BAD_MESSAGE',
        };
      },
    ],
    [
      2,
      () => {
        const topic = `${P.ROOT}master/hello`;
        const { payload, how } = refused(r, P.sHello, [
          P.dataAck,
          (r2) => P.clHello(r2, ctx.worker),
        ]);
        return {
          target: 'worker',
          topic,
          family: topic,
          payload,
          how,
          expect: 'SCANMESH_BAD_MESSAGE',
        };
      },
    ],
  ])();
}

/** The next case: two thirds for the master (it listens on three channels of every worker). */
export function nextCase(r: Prng, ctx: CaseContext): FuzzCase {
  return r.chance(0.65) ? masterCase(r, ctx) : workerCase(r, ctx);
}
