import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as P from '../../test/fuzz/payloads.ts';
import { Prng } from '../../test/fuzz/prng.ts';
import { decode, type MessageKind } from './codec.ts';
import { compileCheck } from './fast-check.ts';
import { cancel } from './messages/cancel.ts';
import { clBye } from './messages/cl-bye.ts';
import { clHello } from './messages/cl-hello.ts';
import { data } from './messages/data.ts';
import { dataAck } from './messages/data-ack.ts';
import { job } from './messages/job.ts';
import { sHello } from './messages/s-hello.ts';
import { status } from './messages/status.ts';

type Json = P.Json;

const statusMessage = (r: Prng): Json => ({
  kind: 'S_STATUS',
  master: 'm1',
  ts: r.int(2 ** 41),
  round: r.int(100),
  helloIntervalS: r.pick([0.5, 5, 30]),
  workers: [
    {
      id: 'w1',
      state: r.pick(['WAITING', 'ACTIVE', 'INACTIVE']),
      counter: r.int(4),
      slots: r.between(1, 64),
      nmap: '7.93',
      running: [{ job: 'j-1', attempt: 1 }],
      lastSeen: r.int(2 ** 41),
      jobsDone: r.int(9),
      jobsFailed: r.int(9),
    },
  ],
  workersOmitted: 0,
  jobs: { pending: 1, running: 1, done: 1, failed: 0, removed: 0 },
  backlog: 0,
  progress: { ended: 1, total: 3, perMinute: r.chance(0.5) ? 2.5 : null, etaS: null },
  nextRuns: [{ job: 'j-2', command: '-sT 127.0.0.1', at: r.int(2 ** 41) }],
});

/** Every kind: its schema and a maker of valid messages (the fuzz test's own generators). */
const KINDS: [MessageKind, z.ZodType, (r: Prng) => Json][] = [
  ['CL_HELLO', clHello, (r) => P.clHello(r, P.workerId(r))],
  ['CL_BYE', clBye, (r) => P.clBye(P.workerId(r))],
  ['DATA', data, (r) => P.data(r, P.workerId(r))],
  ['JOB', job, (r) => ({ ...P.job(r), ...(r.chance(0.5) ? { sig: 'c2ln' } : {}) })],
  ['CANCEL', cancel, (r) => P.cancel(r)],
  ['DATA_ACK', dataAck, (r) => P.dataAck(r)],
  ['S_HELLO', sHello, (r) => P.sHello(r)],
  ['S_STATUS', status, statusMessage],
];

const LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 1001];
const TEXT_LENGTHS = [...LENGTHS, 4096, 4097, 65_536, 65_537];
const NUMBERS = [
  ...[-1e308, -1, -0.5, -0, 0, 0.5, 1, 1.5, 2, 63, 64, 65, 99, 100, 101, 999, 1000, 1001],
  ...[65_535, 65_536, 604_800, 604_801, 10_000_000, 10_000_001, 2 ** 53 - 1, 2 ** 53, 1e308],
];
const STRINGS = ['', 'a', '-a', '.a', 'a b', 'a/b', 'ü', 'DATA', 'host', 'end', 'ipv4', 'up'];

/** Copies of `value` with one leaf or array moved to a bound, or swapped for another type. */
function* atBounds(value: Json): Generator<Json> {
  const copy = () => structuredClone(value);
  for (const path of leaves(value)) {
    const here = get(value, path);
    const variants: Json[] = [null, true, {}, []];
    if (typeof here === 'string') {
      variants.push(...STRINGS, ...TEXT_LENGTHS.map((n) => here.slice(0, 1).padEnd(n, 'x')));
    }
    if (typeof here === 'number') variants.push(...NUMBERS, String(here));
    if (Array.isArray(here)) {
      const item = here[0] ?? 'x';
      variants.push(...LENGTHS.map((n) => Array.from({ length: n }, () => item)));
    }
    for (const v of variants) {
      const c = copy();
      set(c, path, v);
      yield c;
    }
  }
}

type Path = (string | number)[];

function leaves(value: Json, at: Path = []): Path[] {
  if (Array.isArray(value)) {
    return [at, ...value.flatMap((v, i) => leaves(v, [...at, i]))];
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]));
  }
  return [at];
}

function get(value: Json, path: Path): Json {
  return path.reduce<Json>((v, p) => (v as Record<string | number, Json>)[p]!, value);
}

function set(value: Json, path: Path, to: Json): void {
  const parent = get(value, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]!] = to;
}

function parsed(payload: string | Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(payload.toString()) };
  } catch {
    return { ok: false };
  }
}

describe('compileCheck', () => {
  it('says yes exactly where zod does, on valid and mutated messages of every kind', () => {
    const r = new Prng(20_261_121);
    let accepted = 0;
    let refused = 0;
    for (const [kind, schema, make] of KINDS) {
      const check = compileCheck(schema);
      for (let i = 0; i < 300; i++) {
        const message = make(r);
        const mutator = r.pick(Object.keys(P.MUTATORS));
        for (const payload of [
          JSON.stringify(message),
          P.MUTATORS[mutator]!(r, message as never),
        ]) {
          const p = parsed(payload);
          if (!p.ok) continue;
          const zod = schema.safeParse(p.value).success;
          expect(check(p.value), `${kind}: ${payload.toString().slice(0, 300)}`).toBe(zod);
          if (zod) accepted += 1;
          else refused += 1;
        }
      }
    }
    expect(accepted).toBeGreaterThan(2000);
    expect(refused).toBeGreaterThan(1500);
  });

  it('says yes exactly where zod does at every bound and type of every field', () => {
    const r = new Prng(7);
    let cases = 0;
    for (const [kind, schema, make] of KINDS) {
      const check = compileCheck(schema);
      for (const variant of atBounds(make(r))) {
        const zod = schema.safeParse(variant).success;
        expect(check(variant), `${kind}: ${JSON.stringify(variant).slice(0, 300)}`).toBe(zod);
        cases += 1;
      }
    }
    expect(cases).toBeGreaterThan(3000);
  });

  it('refuses numbers JSON cannot hold and keys an object does not own', () => {
    const check = compileCheck(dataAck);
    const ack = { kind: 'DATA_ACK', job: 'j-1', attempt: 1, seq: 0, outcome: 'stored' };
    expect(check(ack)).toBe(true);
    expect(check({ ...ack, seq: Infinity })).toBe(false);
    expect(check({ ...ack, seq: NaN })).toBe(false);
    expect(
      check(
        JSON.parse('{"kind":"DATA_ACK","job":"j-1","attempt":1,"seq":1e400,"outcome":"stored"}'),
      ),
    ).toBe(false);
    expect(check(JSON.parse(`${JSON.stringify(ack).slice(0, -1)},"__proto__":{"x":1}}`))).toBe(
      false,
    );
    expect(
      check(Object.assign(Object.create({ seq: 0 }) as object, { ...ack, seq: undefined })),
    ).toBe(false);
  });

  it('will not compile what it cannot answer as zod does', () => {
    expect(() => compileCheck(z.object({ a: z.string() }))).toThrow(/non-strict object/);
    expect(() => compileCheck(z.strictObject({ a: z.boolean() }))).toThrow(/type boolean/);
    expect(() => compileCheck(z.string().email())).toThrow(/string_format \(email\)/);
    expect(() => compileCheck(z.number().multipleOf(2))).toThrow(/multiple_of/);
    expect(() => compileCheck(z.string().refine((s) => s !== 'x'))).toThrow(/custom/);
    expect(() =>
      compileCheck(
        z
          .string()
          .optional()
          .refine((s) => s !== 'x'),
      ),
    ).toThrow(/checks/);
    expect(() =>
      compileCheck(
        z
          .string()
          .nullable()
          .refine((s) => s !== 'x'),
      ),
    ).toThrow(/checks/);
    expect(() => compileCheck(z.coerce.number())).toThrow(/coercion/);
  });
});

describe('decode with the fast check', () => {
  it('hands back what zod would, and zod still explains every refusal', () => {
    const r = new Prng(11);
    for (const [kind, schema, make] of KINDS) {
      const message = make(r);
      expect(decode(JSON.stringify(message), [kind])).toEqual(schema.parse(message));
    }
    expect(() =>
      decode('{"kind":"DATA_ACK","job":"j-1","attempt":0,"seq":0,"outcome":"stored"}', [
        'DATA_ACK',
      ]),
    ).toThrow(/^DATA_ACK: attempt: Too small/);
  });
});
