import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InfluxDB, toNanoDate, type IPoint, type ISingleHostConfig } from 'influx';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attemptRecord, host, port } from '../../test/harness/results.ts';
import type { Change } from '../delta/changes.ts';
import { createLogger } from '../log.ts';
import type { HostResult } from '../nmap/result.ts';
import { parseNmapXml } from '../nmap/xml-stream.ts';
import type { AttemptRecord } from './attempt.ts';
import { createInfluxWriter, type InfluxWriterOptions } from './influx-writer.ts';
import { createLineSerializer } from './line-protocol.ts';
import { portChangePoints } from './port-change-points.ts';
import { hostPoints, masterPoint, scanPoint, schemas, workerPoint } from './points.ts';

/*
 * The writer builds line protocol itself instead of through the influx package's `writePoints`.
 * These tests hold the two side by side: the same points must give the very same bytes (series
 * keys and stored strings must not change under data already in InfluxDB), and the same requests.
 */

interface Request {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback stand-in for InfluxDB that records every request and answers 204. */
async function recorder() {
  const requests: Request[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: p } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const DB = 'db';

/** Bytes as text a diff can show: each line (split at byte 0x0a) in hex on a line of its own. */
function hex(bytes: Buffer | undefined): string {
  const body = bytes ?? Buffer.alloc(0);
  const lines: string[] = [];
  let start = 0;
  for (let end = body.indexOf(0x0a); end !== -1; end = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, end).toString('hex'));
    start = end + 1;
  }
  lines.push(body.subarray(start).toString('hex'));
  return lines.join('\n');
}

/** The package as the writer configured it before: schemas copied, precision n. */
function packageClient(over: Partial<ISingleHostConfig> = {}): InfluxDB {
  return new InfluxDB({
    host: '127.0.0.1',
    port: 1,
    database: DB,
    username: null as unknown as string,
    pool: { maxRetries: 0 },
    schema: schemas.map((s) => ({
      measurement: s.measurement,
      database: DB,
      tags: [...s.tags],
      fields: { ...s.fields },
    })),
    ...over,
  });
}

/** Strings that need escaping somewhere in line protocol, or that once broke a client. */
const NASTY = [
  '',
  ' ',
  'plain',
  'two words',
  ' leading and trailing ',
  'a,b',
  'k=v',
  ',= ',
  '"quoted"',
  'it\'s "both"',
  "'single'",
  'back\\slash',
  'trailing\\',
  '\\\\double',
  "\\'",
  "one \\' two \\' three",
  '\\"',
  'new\nline',
  'crlf\r\n',
  'tab\tand\u0000nul\u007f',
  'ünïcödé ✓ 日本語',
  'emoji 🦄 and \u{1F1E9}\u{1F1EA}',
  'lone \uD800 surrogate',
  'Ubuntu\nprotocol 2.0, "x"=y \\z\\',
] as const;

function record(text: string, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return attemptRecord({
    job: `job ${text}`,
    command: `nmap -sV --script-args 'x=${text}' 10.0.0.0/30`,
    worker: text,
    error: text,
    finishedAt: 1_700_000_002_345,
    timestampNs: '1700000000000042007',
    ...over,
  });
}

function nastyHost(text: string, address = text): HostResult {
  return host(address, {
    addresses: [
      { addr: address, type: 'ipv4', vendor: '' },
      { addr: `AA:BB:${text}`, type: 'mac', vendor: text },
    ],
    hostnames: [{ name: text, type: 'PTR' }],
    latencyMs: 0.1,
    os: [{ name: text, accuracy: 97 }],
    ports: [
      port(22, text, {
        protocol: text,
        reason: text,
        service: text,
        product: text,
        version: text,
        extrainfo: text,
      }),
      port(80, 'open'),
    ],
  });
}

function change(text: string, over: Partial<Change> = {}): Change {
  return {
    host: text,
    port: 22,
    protocol: text,
    change: 'service-changed',
    before: text,
    after: `${text} after`,
    job: text,
    previousJob: text,
    noisy: true,
    ...over,
  };
}

/** Every point shape the project writes, with `text` in every string it carries. */
function projectPoints(text: string): IPoint[] {
  const rec = record(text);
  const bare = host('10.0.0.9', { state: 'down', latencyMs: null });
  return [
    scanPoint(rec, [nastyHost(text), bare]),
    scanPoint(record(text, { exitCode: null, stats: { hostsUp: 3, hostsDown: 1 } as never }), {
      hostsUp: 1,
      hostsDown: 0,
      openPorts: 2,
    }),
    ...hostPoints(rec, nastyHost(text)),
    ...hostPoints(rec, nastyHost(text, '2001:db8::1')),
    ...hostPoints(rec, bare),
    workerPoint(
      {
        worker: text,
        state: 'ACTIVE',
        active: 2,
        requestCounter: 7,
        jobsDone: 1e6,
        jobsFailed: 0,
      },
      '1700000000000000000',
    ),
    masterPoint(
      {
        master: text,
        queue: 0,
        running: 1,
        done: 2,
        failed: 3,
        backlog: 4,
        workers: 5,
        workersActive: 6,
      },
      '1700000000000000000',
    ),
    ...portChangePoints(rec, [
      change(text),
      change(text, { port: null, protocol: null, change: 'host-up', noisy: false }),
    ]),
  ];
}

/**
 * Points built by hand, past the project's builders: tags with raw control characters, numbers at
 * the edges of their formatting, every timestamp form, absent and null fields, and a measurement
 * without a schema.
 */
function handPoints(text: string): IPoint[] {
  return [
    {
      measurement: 'port',
      tags: { host: text, port: text, protocol: text, state: text, worker: text },
      fields: { job: text, open: 2.9, service: text, reason: null, product: undefined },
      timestamp: '1700000000000000001',
    },
    {
      measurement: 'host',
      tags: { status: 'up', host: `${text}\n${text}` },
      fields: { latency_ms: 1e21, open_ports: '42', os: 12 },
      timestamp: 1_700_000_000,
    },
    { measurement: 'host', fields: { latency_ms: 1e-7, open_ports: -3.5 }, timestamp: 0 },
    { measurement: 'host', fields: { latency_ms: -0, open_ports: 0 }, timestamp: '' },
    { measurement: 'host', fields: { latency_ms: Number.MAX_VALUE, open_ports: 1 } },
    {
      measurement: 'scan',
      fields: { duration_s: 123456789.123, exit_code: Number.MAX_SAFE_INTEGER, attempt: '7' },
      timestamp: new Date(1_700_000_000_123),
    },
    {
      measurement: 'scan',
      fields: { duration_s: '2.50', hosts_up: 1.5e300 },
      timestamp: toNanoDate('1700000000123456789'),
    },
    { measurement: 'master', tags: {}, fields: {}, timestamp: '1' },
    // Typed out, but a caller's cast can still hand the package a number.
    { measurement: 'port', tags: { port: 22 as unknown as string }, fields: { open: 1 } },
    {
      measurement: `free ${text}`,
      tags: { [`tag ${text}`]: text },
      fields: { [`b ${text}`]: text, a: 1.5, c: true, d: null },
      timestamp: '2',
    },
  ];
}

describe('line protocol, byte for byte as the influx package', () => {
  let server: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    server = await recorder();
  });
  afterEach(() => {
    server.requests.length = 0;
  });
  afterAll(async () => {
    await server.close();
  });

  /** The bytes the package sends for these points. */
  async function packageBody(points: readonly IPoint[]): Promise<string> {
    server.requests.length = 0;
    await packageClient({ port: server.port }).writePoints([...points], { precision: 'n' });
    expect(server.requests).toHaveLength(1);
    return hex(server.requests[0]?.body);
  }

  const serialize = createLineSerializer(schemas, DB);
  const ourBody = (points: readonly IPoint[]) => hex(serialize(points));

  it.each(NASTY.map((text) => [JSON.stringify(text), text]))(
    'the project points carrying %s',
    async (_name, text) => {
      const points = projectPoints(text);
      expect(ourBody(points)).toBe(await packageBody(points));
    },
  );

  it.each(NASTY.map((text) => [JSON.stringify(text), text]))(
    'hand-built points carrying %s',
    async (_name, text) => {
      const points = handPoints(text);
      expect(ourBody(points)).toBe(await packageBody(points));
    },
  );

  const fixtures = join(import.meta.dirname, '../../test/fixtures');
  const reports = (readdirSync(fixtures, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.xml'))
    .sort();

  it('covers the captured nmap reports', () => {
    expect(reports.length).toBeGreaterThan(10);
  });

  it.each(reports)('the points of the captured report %s', async (file) => {
    const { hosts, stats } = parseNmapXml(readFileSync(join(fixtures, file), 'utf8'));
    const rec = record('fixture', { stats });
    const points = [scanPoint(rec, hosts), ...hosts.flatMap((h) => hostPoints(rec, h))];
    expect(ourBody(points)).toBe(await packageBody(points));
  });

  it('escapes what line protocol needs escaped (not only what the package does)', () => {
    const line = serialize([
      {
        measurement: 'port',
        tags: { host: 'a b,c=d', worker: 'w' },
        fields: { job: 'say "hi" \\ bye', open: 1 },
        timestamp: '5',
      },
    ]).toString('utf8');
    expect(line).toBe('port,host=a\\ b\\,c\\=d,worker=w job="say \\"hi\\" \\\\ bye",open=1i 5');
  });

  it.each<[string, IPoint]>([
    ['a non-numeric integer', { measurement: 'port', fields: { open: 'yes' } }],
    ['a non-numeric float', { measurement: 'host', fields: { latency_ms: 'fast' } }],
    ['a boolean integer', { measurement: 'port', fields: { open: true } }],
    ['an unknown field', { measurement: 'port', fields: { job: 'j', colour: 'red' } }],
    ['an unknown tag', { measurement: 'port', tags: { colour: 'red' }, fields: { open: 1 } }],
    ['a non-numeric timestamp', { measurement: 'port', fields: { open: 1 }, timestamp: 'now' }],
  ])('refuses %s with the package error', async (_name, bad) => {
    const points = [projectPoints('ok')[0] as IPoint, bad];
    const ours = (() => {
      try {
        serialize(points);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    })();
    // The package throws before it returns a promise.
    const theirs = await Promise.resolve()
      .then(() => packageClient({ port: server.port }).writePoints(points, { precision: 'n' }))
      .then(
        () => null,
        (err: unknown) => (err as Error).message,
      );
    expect(ours).not.toBeNull();
    expect(ours).toBe(theirs);
    expect(server.requests).toHaveLength(0);
  });
});

describe('writer requests, as the influx package sent them', () => {
  let server: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    server = await recorder();
  });
  afterAll(async () => {
    await server.close();
  });

  const logger = createLogger({ level: 'silent', destination: { write: () => undefined } });
  const points = [...projectPoints(`a "b" c\\'d`), ...projectPoints('ünïcödé')];

  it.each<[string, Partial<InfluxWriterOptions>, Partial<ISingleHostConfig>]>([
    ['no credentials', {}, {}],
    [
      'username and password',
      { username: 'scan@mesh', password: 'p:ss w' },
      { username: 'scan@mesh', password: 'p:ss w' },
    ],
    [
      'a token',
      { token: 'tok/en+=' },
      { options: { headers: { Authorization: 'Token tok/en+=' } } },
    ],
  ])('with %s', async (_name, ours, theirs) => {
    server.requests.length = 0;
    const writer = createInfluxWriter({
      url: `${server.url}/influx/`,
      database: DB,
      logger,
      ...ours,
    });
    await writer.write(points);
    await packageClient({ port: server.port, path: '/influx', ...theirs }).writePoints(points, {
      precision: 'n',
    });
    const [mine, package_] = server.requests;
    expect(server.requests).toHaveLength(2);
    expect(mine?.body.toString('utf8').split('\n')).toHaveLength(points.length);
    expect(mine).toEqual(package_);
  });

  it('splits into batchSize bodies that together are the package body', async () => {
    server.requests.length = 0;
    const writer = createInfluxWriter({ url: server.url, database: DB, logger, batchSize: 7 });
    await writer.write(points);
    const bodies = server.requests.map((r) => r.body);
    expect(bodies).toHaveLength(Math.ceil(points.length / 7));
    server.requests.length = 0;
    await packageClient({ port: server.port }).writePoints(points, { precision: 'n' });
    const newline = Buffer.from('\n');
    const joined = Buffer.concat(bodies.flatMap((b, i) => (i === 0 ? [b] : [newline, b])));
    expect(hex(joined)).toBe(hex(server.requests[0]?.body));
  });
});
