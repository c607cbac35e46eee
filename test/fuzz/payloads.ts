/**
 * Fuzz payloads for the MQTT protocol. Valid messages of every kind, and mutators that turn one
 * into a payload the protocol must refuse. Each mutator is invalid *by construction*, from the
 * README's contract (strict objects, every field required, bounded sizes, ids from a fixed
 * alphabet), not by asking the code under test; the fuzz test still checks each one against
 * `decode`, so a mutator that slips and makes a valid message fails loudly instead of skewing counts.
 */
import type { Prng } from './prng.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const ROOT = 'scanmesh/v1/';
/** Bigger than every string bound in the schemas (the largest, longText, is 65,536). */
const HUGE = 70_000;
/** The codec's payload limit is 1 MiB; the broker lets packets 4 KiB past it through. */
const OVERSIZE = 1024 * 1024 + 512;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function workerId(r: Prng): string {
  return r.text(1, ALNUM) + r.text(r.int(20), ID_ALPHABET);
}

export function jobId(r: Prng): string {
  return `j-${r.text(12, '0123456789abcdef')}-${r.between(1, 9)}`;
}

/** Topic levels `+` matches that are not worker ids (MQTT-legal: no wildcards, NUL or "/"). */
export const BAD_TOPIC_IDS = ['', '-lead', '.dot', '_under', 'has space', 'ünï', 'x'.repeat(65)];

// ---- valid messages ----------------------------------------------------------------------

const ref = (r: Prng) => ({ job: jobId(r), attempt: r.between(1, 1000) });

export function clHello(r: Prng, worker: string): JsonObject {
  return {
    kind: 'CL_HELLO',
    worker,
    nmap: r.pick(['7.93', '7.95SVN', 'unknown']),
    slots: r.between(1, 64),
    running: Array.from({ length: r.int(3) }, () => ref(r)),
    held: Array.from({ length: r.int(3) }, () => ref(r)),
  };
}

export function clBye(worker: string): JsonObject {
  return { kind: 'CL_BYE', worker };
}

const port = (r: Prng): JsonObject => ({
  protocol: 'tcp',
  port: r.between(0, 65535),
  state: r.pick(['open', 'closed', 'filtered']),
  reason: 'syn-ack',
  service: r.pick(['ssh', 'http', '']),
  product: '',
  version: '',
  extrainfo: '',
  cpe: r.chance(0.5) ? ['cpe:/a:openbsd:openssh:9.2'] : [],
  scripts: r.chance(0.3) ? [{ id: 'banner', output: 'SSH-2.0-x' }] : [],
});

export function host(r: Prng): JsonObject {
  return {
    address: '127.0.0.1',
    addresses: [{ addr: '127.0.0.1', type: 'ipv4', vendor: '' }],
    hostnames: [{ name: 'localhost', type: 'PTR' }],
    state: r.pick(['up', 'down', 'unknown']),
    reason: 'user-set',
    latencyMs: r.chance(0.5) ? r.next() * 10 : null,
    ports: Array.from({ length: r.between(1, 4) }, () => port(r)),
    extraPorts: [{ state: 'closed', count: r.int(1000) }],
    os: r.chance(0.3) ? [{ name: 'Linux 5.X', accuracy: r.between(0, 100) }] : [],
    scripts: [],
    startTime: r.chance(0.8) ? r.int(2 ** 31) : null,
    endTime: r.chance(0.8) ? r.int(2 ** 31) : null,
  };
}

export function data(r: Prng, worker: string): JsonObject {
  const base = { kind: 'DATA', worker, job: jobId(r), attempt: r.between(1, 1000) };
  if (r.chance(0.5)) return { ...base, seq: r.int(10_000), part: 'host', host: host(r) };
  return {
    ...base,
    seq: r.int(10_000),
    part: 'end',
    status: r.pick(['completed', 'failed', 'timeout']),
    exitCode: r.chance(0.8) ? r.between(-1, 255) : null,
    error: r.chance(0.5) ? '' : 'nmap said no',
    code: r.pick(['', 'SCANMESH_NMAP_FAILED']),
    meta: r.chance(0.7)
      ? {
          nmapVersion: '7.93',
          args: 'nmap -sT 127.0.0.1',
          start: r.int(2 ** 31),
          scanInfo: [{ type: 'connect', protocol: 'tcp', numServices: 1, services: '22' }],
        }
      : null,
    stats: r.chance(0.7)
      ? {
          end: r.int(2 ** 31),
          elapsedS: r.chance(0.9) ? r.next() * 100 : null,
          exit: 'success',
          errorMessage: '',
          summary: 'done',
          hostsUp: r.int(5),
          hostsDown: r.int(5),
          hostsTotal: r.int(10),
        }
      : null,
    startedAt: r.int(2 ** 41),
    finishedAt: r.int(2 ** 41),
  };
}

export function job(r: Prng): JsonObject {
  return {
    kind: 'JOB',
    job: jobId(r),
    attempt: r.between(1, 1000),
    stamp: r.between(1, 2 ** 41),
    args: ['-sT', '-Pn', '-p', String(r.between(1, 65535)), '127.0.0.1'],
    timeoutS: r.between(1, 7 * 24 * 3600),
  };
}

export function cancel(r: Prng): JsonObject {
  return { kind: 'CANCEL', job: jobId(r), attempt: r.between(1, 1000), reason: 'job done' };
}

export function dataAck(r: Prng): JsonObject {
  const outcome = r.pick(['stored', 'duplicate', 'stale']);
  return {
    kind: 'DATA_ACK',
    job: jobId(r),
    attempt: r.between(1, 1000),
    seq: r.int(1000),
    outcome,
  };
}

export function sHello(r: Prng): JsonObject {
  return { kind: 'S_HELLO', master: 'master', round: r.int(1000), ts: r.int(2 ** 41) };
}

// ---- walking a message --------------------------------------------------------------------

type Path = (string | number)[];

/** Every path in the value, the root ([]) first. */
function paths(value: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  }
  return out;
}

function get(value: Json, path: Path): Json {
  let v: Json = value;
  for (const p of path) v = (v as Record<string | number, Json>)[p]!;
  return v;
}

function set(value: Json, path: Path, to: Json): void {
  const parent = get(value, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]!] = to;
}

const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObject = (v: Json): v is JsonObject => typeOf(v) === 'object';

/**
 * A value of another JSON type than `v`, never null (nullable fields would accept null). In place
 * of a null, never a number or object either: the nullable fields hold numbers or objects.
 */
function otherType(r: Prng, v: Json): Json {
  const choices: [string, () => Json][] = [
    ['string', () => r.pick(['', '1', 'true', 'null', r.text(8, ALNUM)])],
    ['number', () => r.pick([0, 1, -1, 1.5, 1e308, -0])],
    ['boolean', () => r.chance(0.5)],
    ['array', () => r.pick([[], [1], ['a'], [null], [{}]])],
    ['object', () => r.pick<Json>([{}, { a: 1 }, { kind: 'JOB' }])],
  ];
  const excluded = v === null ? ['number', 'object'] : [typeOf(v)];
  return r.pick(choices.filter(([t]) => !excluded.includes(t)))[1]();
}

const clone = (m: JsonObject): JsonObject => structuredClone(m);
const MARK = '@@fuzz-mark@@';

/** JSON text of `m` with the marked key or value swapped for raw text (keys JS cannot set). */
function withRaw(m: Json, raw: string, as: 'key' | 'value'): string {
  const text = JSON.stringify(m);
  return text.replace(JSON.stringify(MARK), as === 'key' ? JSON.stringify(raw) : raw);
}

// ---- mutators: each returns a payload the schema must refuse ---------------------------------

/** Keys that would pollute a prototype if anything merged a payload into an object. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
const POLLUTING: Json[] = [
  { polluted: 'yes' },
  { prototype: { polluted: 'yes' } },
  { toString: 'boom', valueOf: 1 },
];

export type Mutator = (r: Prng, m: JsonObject) => string | Buffer;

export const MUTATORS: Record<string, Mutator> = {
  'drop-field': (r, m) => {
    const c = clone(m);
    const objects = paths(c).filter((p) => {
      const v = get(c, p);
      return isObject(v) && Object.keys(v).some((k) => k !== 'sig');
    });
    const at = get(c, r.pick(objects)) as JsonObject;
    delete at[r.pick(Object.keys(at).filter((k) => k !== 'sig'))];
    return JSON.stringify(c);
  },
  'unknown-key': (r, m) => {
    const c = clone(m);
    const objects = paths(c).filter((p) => isObject(get(c, p)));
    const at = get(c, r.pick(objects)) as JsonObject;
    at[MARK] = r.pick(POLLUTING);
    const key = r.chance(0.7) ? r.pick(POLLUTION_KEYS) : r.text(r.between(1, 12), ID_ALPHABET);
    // A name the message already has would overwrite, not add: use one it cannot have.
    return withRaw(c, Object.hasOwn(at, key) ? `${key}_` : key, 'key');
  },
  'wrong-type': (r, m) => {
    const c = clone(m);
    const p = r.pick(paths(c).slice(1));
    set(c, p, otherType(r, get(c, p)));
    return JSON.stringify(c);
  },
  'huge-string': (r, m) => {
    const c = clone(m);
    const strings = paths(c).filter((p) => typeof get(c, p) === 'string');
    const s = r.chance(0.5) ? 'A'.repeat(HUGE) : r.text(HUGE, 'aé😀<>"\\\u2028 ');
    set(c, r.pick(strings), s);
    return JSON.stringify(c);
  },
  'out-of-range': (r, m) => {
    const c = clone(m);
    const fields = Object.keys(c).filter((k) => OUT_OF_RANGE[k] !== undefined);
    const k = r.pick(fields);
    c[k] = r.pick(OUT_OF_RANGE[k]!(c));
    return JSON.stringify(c);
  },
  truncated: (r, m) => {
    const text = JSON.stringify(m);
    return text.slice(0, r.int(text.length));
  },
  'deep-nesting': (r, m) => {
    const c = clone(m);
    set(c, r.pick(paths(c).slice(1)), MARK);
    const depth = r.between(50, 50_000);
    const deep = r.chance(0.5)
      ? '['.repeat(depth) + ']'.repeat(depth)
      : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    return withRaw(c, deep, 'value');
  },
  'duplicate-key': (r, m) => {
    // JSON.parse keeps the last of two equal keys: the second, of the wrong type, must win.
    const k = r.pick(Object.keys(m));
    const text = JSON.stringify(m);
    return `${text.slice(0, -1)},${JSON.stringify(k)}:${JSON.stringify(otherType(r, m[k]!))}}`;
  },
  oversize: (_r, m) => {
    const text = JSON.stringify(m);
    return `${text.slice(0, -1)},"pad":"${'p'.repeat(OVERSIZE - text.length)}"}`;
  },
  'byte-order-mark': (_r, m) => `\uFEFF${JSON.stringify(m)}`,
};

/** Per top-level field, values outside what the README allows. */
const OUT_OF_RANGE: Record<string, (m: JsonObject) => Json[]> = {
  kind: () => ['', 'job', 'JOBS', 'DATA ', 'S_HELLO\u0000', 'constructor', '__proto__'],
  worker: () => BAD_TOPIC_IDS,
  job: () => ['', '-j', 'j/1', 'j#1', 'j 1', 'j'.repeat(129), 'ü'],
  attempt: () => [0, -1, 1001, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2],
  // DATA caps seq; DATA_ACK only needs it to be a non-negative integer.
  seq: (m) => (m.kind === 'DATA' ? [-1, 0.5, 10_000_001] : [-1, 0.5, -1e308]),
  slots: () => [0, 65, 2.5, -1],
  timeoutS: () => [0, 7 * 24 * 3600 + 1, 3.3, -5],
  round: () => [-1, 0.5],
  ts: () => [-1, 1.5],
  startedAt: () => [-1, 0.1],
  finishedAt: () => [-1, 0.1],
  exitCode: () => [1.5, 1e-9],
  code: () => ['C'.repeat(65)],
  part: () => ['', 'HOST', 'middle', 'end '],
  status: () => ['done', 'ok', ''],
  outcome: () => ['', 'lost', 'STORED'],
  nmap: () => ['n'.repeat(257)],
  master: () => ['m'.repeat(257)],
  reason: () => ['r'.repeat(257)],
  args: () => [[], Array.from({ length: 257 }, () => '-v'), ['-sT', 'x'.repeat(4097)], [1]],
  running: () => [Array.from({ length: 65 }, (_, i) => ({ job: `j-${i}`, attempt: 1 }))],
  held: () => [Array.from({ length: 10_001 }, () => ({ job: 'j', attempt: 1 }))],
  error: () => ['e'.repeat(65_537)],
};

/** Payloads that are not a message at all. */
export function garbage(r: Prng): string | Buffer {
  return r.weighted<() => string | Buffer>([
    [3, () => r.bytes(r.between(1, 512))],
    [3, () => r.text(r.between(1, 256), ' {}[]":,0123456789abcnulltruefalse\\')],
    [1, () => ''],
    [1, () => r.pick([' ', '\n', '\t\r\n'])],
    [2, () => r.pick(['null', 'true', '0', '-1.5e300', '"JOB"', '[]', '[{"kind":"JOB"}]'])],
    [1, () => '['.repeat(r.between(1000, 200_000)) + ']'.repeat(r.between(0, 10))],
    [1, () => r.pick(['{}', '{"kind":null}', '{"kind":1}', '{"kind":{"kind":"JOB"}}'])],
    [1, () => r.pick(['{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{}}}'])],
    [1, () => `{"kind":"${'K'.repeat(r.between(1000, 100_000))}"}`],
  ])();
}
