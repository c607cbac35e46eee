import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INanoDate, IPoint } from 'influx';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../../test/harness/influxd.ts';
import { isScanmeshError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { HostResult } from '../nmap/result.ts';
import { attemptRecord, host, port } from '../../test/harness/results.ts';
import type { AttemptRecord } from './attempt.ts';
import { createInfluxWriter, InfluxError, type InfluxWriterOptions } from './influx-writer.ts';
import {
  EMPTY_TALLY,
  hostPoints,
  masterPoint,
  scanPoint,
  tallyHost,
  workerPoint,
} from './points.ts';
import { attemptTimestampNs } from './timestamp.ts';

/** Log records the writer produced, parsed: where "reported loudly" is the behaviour under test. */
function logSink() {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void records.push(JSON.parse(line)) },
  });
  return { logger, records };
}

function writer(url: string, database: string, over: Partial<InfluxWriterOptions> = {}) {
  const sink = logSink();
  return { ...sink, writer: createInfluxWriter({ url, database, logger: sink.logger, ...over }) };
}

async function caught(promise: Promise<unknown>): Promise<InfluxError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InfluxError);
  return err as InfluxError;
}

function record(jobSeq: number, over: Partial<AttemptRecord> = {}): AttemptRecord {
  const attempt = over.attempt ?? 1;
  return attemptRecord({
    job: `job-${jobSeq}`,
    jobSeq,
    command: 'nmap -sV -p 22,80,443 10.0.0.1-2',
    // A whole number of seconds: the first duration_s written is 2, which must still be a float.
    finishedAt: 1_700_000_002_000,
    hostCount: 2,
    timestampNs: attemptTimestampNs(1_700_000_000, jobSeq, attempt),
    ...over,
  });
}

const alpha = host('10.0.0.1', {
  addresses: [
    { addr: '10.0.0.1', type: 'ipv4', vendor: '' },
    { addr: 'AA:BB:CC:DD:EE:FF', type: 'mac', vendor: 'Acme "Networks"' },
  ],
  hostnames: [{ name: 'alpha.lan', type: 'user' }],
  latencyMs: 1,
  os: [{ name: 'Linux 5.x', accuracy: 96 }],
  ports: [
    port(22, 'open', { product: 'OpenSSH', version: '9.6p1', extrainfo: 'Ubuntu\nprotocol 2.0' }),
    port(80, 'closed', { service: 'http', reason: 'reset' }),
    port(443, 'open', { service: 'https', product: 'nginx', extrainfo: 'C:\\srv\\www' }),
  ],
});
const beta = host('10.0.0.2', {
  latencyMs: 0.5,
  ports: [port(53, 'open|filtered', { protocol: 'udp', service: 'domain', reason: 'no-response' })],
});

/** Every point of one attempt, the way the master streams them: hosts first, then the scan. */
function attemptPoints(rec: AttemptRecord, hosts: HostResult[]): IPoint[] {
  let tally = EMPTY_TALLY;
  const points: IPoint[] = [];
  for (const h of hosts) {
    tally = tallyHost(tally, h);
    points.push(...hostPoints(rec, h));
  }
  return [...points, scanPoint(rec, tally)];
}

type Row = Record<string, unknown> & { time: INanoDate };
/** Rows in a stable order, whatever order InfluxDB returns series in. */
function sorted<T>(rows: T[]): T[] {
  return [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
/** Rows with `time` as the exact nanosecond string, in a stable order. */
function plain(rows: Row[]): Array<Record<string, unknown>> {
  return sorted(rows.map(({ time, ...rest }) => ({ time: time.getNanoTime(), ...rest })));
}

describe('InfluxDB writer against a real influxd', () => {
  let influxd: InfluxdHandle;
  let dbCounter = 0;
  /** A fresh database per test, so no test sees another's points or field types. */
  async function freshDb(over: Partial<InfluxWriterOptions> = {}) {
    dbCounter += 1;
    const made = writer(influxd.url, `scanmesh_test_${dbCounter}`, over);
    await made.writer.ensureDatabase();
    return made;
  }

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it('creates the database once and pings', async () => {
    const { writer: w } = await freshDb();
    await w.ensureDatabase();
    const names = await w.query<{ name: string }>('SHOW DATABASES');
    expect(names.filter((r) => r.name === `scanmesh_test_${dbCounter}`)).toHaveLength(1);
    expect(await w.ping()).toBe(true);
  });

  it('stores an attempt as exact rows with exact tags, fields and nanosecond time', async () => {
    const { writer: w } = await freshDb();
    const rec = record(123_456, { attempt: 7, error: 'line one\nline "two"' });
    await w.write(attemptPoints(rec, [alpha, beta]));
    const t = '1700000000123456007';
    expect(rec.timestampNs).toBe(t);

    expect(plain(await w.query<Row>('SELECT * FROM "scan"'))).toEqual([
      {
        time: t,
        worker: 'w1',
        status: 'completed',
        job: 'job-123456',
        attempt: 7,
        command: 'nmap -sV -p 22,80,443 10.0.0.1-2',
        duration_s: 2,
        hosts_up: 2,
        hosts_down: 0,
        open_ports: 2,
        exit_code: 0,
        error: 'line one\nline "two"',
      },
    ]);

    const hostRow = { time: t, worker: 'w1', status: 'up', job: 'job-123456' };
    expect(plain(await w.query<Row>('SELECT * FROM "host"'))).toEqual(
      sorted([
        {
          ...hostRow,
          host: '10.0.0.1',
          hostname: 'alpha.lan',
          mac: 'AA:BB:CC:DD:EE:FF',
          vendor: 'Acme "Networks"',
          os: 'Linux 5.x',
          latency_ms: 1,
          open_ports: 2,
        },
        {
          ...hostRow,
          host: '10.0.0.2',
          hostname: '',
          mac: '',
          vendor: '',
          os: '',
          latency_ms: 0.5,
          open_ports: 0,
        },
      ]),
    );

    const portRow = { time: t, worker: 'w1', job: 'job-123456', version: '', product: '' };
    const ports = plain(await w.query<Row>('SELECT * FROM "port"'));
    expect(ports).toEqual(
      sorted([
        {
          ...portRow,
          host: '10.0.0.1',
          port: '22',
          protocol: 'tcp',
          state: 'open',
          open: 1,
          service: 'ssh',
          product: 'OpenSSH',
          version: '9.6p1',
          extrainfo: 'Ubuntu\nprotocol 2.0',
          reason: 'syn-ack',
        },
        {
          ...portRow,
          host: '10.0.0.1',
          port: '80',
          protocol: 'tcp',
          state: 'closed',
          open: 0,
          service: 'http',
          extrainfo: '',
          reason: 'reset',
        },
        {
          ...portRow,
          host: '10.0.0.1',
          port: '443',
          protocol: 'tcp',
          state: 'open',
          open: 1,
          service: 'https',
          product: 'nginx',
          extrainfo: 'C:\\srv\\www',
          reason: 'syn-ack',
        },
        {
          ...portRow,
          host: '10.0.0.2',
          port: '53',
          protocol: 'udp',
          state: 'open|filtered',
          open: 0,
          service: 'domain',
          extrainfo: '',
          reason: 'no-response',
        },
      ]),
    );
  });

  it('fixes every field type right on the first write (ints as integer, whole floats as float)', async () => {
    const { writer: w } = await freshDb();
    await w.write([
      ...attemptPoints(record(1), [alpha, beta]),
      workerPoint(
        { worker: 'w1', state: 'ACTIVE', active: 1, requestCounter: 9, jobsDone: 3, jobsFailed: 1 },
        '1700000000000000000',
      ),
      masterPoint(
        {
          master: 'm1',
          queue: 5,
          running: 1,
          done: 3,
          failed: 1,
          backlog: 2,
          workers: 2,
          workersActive: 1,
        },
        '1700000000000000000',
      ),
    ]);
    const types = async (measurement: string) =>
      Object.fromEntries(
        (
          await w.query<{ fieldKey: string; fieldType: string }>(
            `SHOW FIELD KEYS FROM "${measurement}"`,
          )
        ).map((r) => [r.fieldKey, r.fieldType]),
      );
    expect(await types('scan')).toEqual({
      job: 'string',
      attempt: 'integer',
      command: 'string',
      duration_s: 'float',
      hosts_up: 'integer',
      hosts_down: 'integer',
      open_ports: 'integer',
      exit_code: 'integer',
      error: 'string',
    });
    expect(await types('host')).toEqual({
      job: 'string',
      hostname: 'string',
      mac: 'string',
      vendor: 'string',
      os: 'string',
      latency_ms: 'float',
      open_ports: 'integer',
    });
    expect(await types('port')).toEqual({
      job: 'string',
      open: 'integer',
      service: 'string',
      product: 'string',
      version: 'string',
      extrainfo: 'string',
      reason: 'string',
    });
    expect(await types('worker')).toEqual({
      state: 'string',
      active: 'integer',
      request_counter: 'integer',
      jobs_done: 'integer',
      jobs_failed: 'integer',
    });
    expect(await types('master')).toEqual({
      queue: 'integer',
      running: 'integer',
      done: 'integer',
      failed: 'integer',
      backlog: 'integer',
      workers: 'integer',
      workers_active: 'integer',
    });
  });

  it('overwrites, never duplicates, when the same attempt is written twice', async () => {
    const { writer: w } = await freshDb();
    const points = attemptPoints(record(5), [alpha, beta]);
    const counts = async () =>
      Promise.all(
        ['scan', 'host', 'port'].map(async (m) => (await w.query(`SELECT * FROM "${m}"`)).length),
      );
    await w.write(points);
    expect(await counts()).toEqual([1, 2, 4]);
    await w.write(attemptPoints(record(5), [alpha, beta]));
    expect(await counts()).toEqual([1, 2, 4]);
  });

  it('keeps two scans of the same host in the same second apart (jobSeq, attempt)', async () => {
    const { writer: w } = await freshDb();
    await w.write(attemptPoints(record(10), [alpha]));
    await w.write(attemptPoints(record(11), [alpha]));
    await w.write(attemptPoints(record(11, { attempt: 2 }), [alpha]));
    const rows = await w.query<Row>(`SELECT "job" FROM "host" WHERE "host" = '10.0.0.1'`);
    expect(rows.map((r) => [r.time.getNanoTime(), r.job])).toEqual([
      ['1700000000000010001', 'job-10'],
      ['1700000000000011001', 'job-11'],
      ['1700000000000011002', 'job-11'],
    ]);
  });

  it('splits large writes into batches that all arrive', async () => {
    const { writer: w } = await freshDb({ batchSize: 3 });
    const many = Array.from({ length: 10 }, (_, i) => host(`10.0.1.${i + 1}`));
    await w.write(attemptPoints(record(20), many));
    expect(await w.query('SELECT * FROM "host"')).toHaveLength(10);
    expect(await w.query('SELECT * FROM "scan"')).toHaveLength(1);
  });

  it('reports a type conflict as not retryable, loudly', async () => {
    const { writer: w, records } = await freshDb();
    // Someone else wrote `open` as a string first, in the same shard (field types are fixed per
    // shard): our integer can never be accepted there.
    const rec = record(30);
    const res = await fetch(`${influxd.url}/write?db=scanmesh_test_${dbCounter}&precision=n`, {
      method: 'POST',
      body: `port,host=10.0.0.9,port=22,protocol=tcp,state=open,worker=w9 open="yes" ${rec.timestampNs}`,
    });
    expect(res.status).toBe(204);
    const err = await caught(w.write(hostPoints(rec, alpha)));
    expect(err.code).toBe('SCANMESH_INFLUX_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/field type conflict/);
    expect(records.filter((r) => r.level === 50)).toHaveLength(1);
  });

  it('reports a refused query as not retryable', async () => {
    const { writer: w } = await freshDb();
    const err = await caught(w.query('SELEKT nothing'));
    expect(isScanmeshError(err, 'SCANMESH_INFLUX_FAILED')).toBe(true);
    expect(err.retryable).toBe(false);
  });

  it('reports a stopped server as retryable, then writes again once it is back', async () => {
    const { writer: w, records } = await freshDb();
    await w.write(attemptPoints(record(40), [alpha]));
    await influxd.pause();
    try {
      expect(await w.ping()).toBe(false);
      const err = await caught(w.write(attemptPoints(record(41), [alpha])));
      expect(err.code).toBe('SCANMESH_INFLUX_FAILED');
      expect(err.retryable).toBe(true);
      expect(records.some((r) => r.level === 40 && r.retryable === true)).toBe(true);
    } finally {
      await influxd.resume();
    }
    expect(await w.ping()).toBe(true);
    await w.write(attemptPoints(record(41), [alpha]));
    expect(await w.query('SELECT * FROM "scan"')).toHaveLength(2);
  });
});

/**
 * influxd with `[http] auth-enabled`, which the harness does not offer: it is started through a
 * wrapper that sets influxd's own environment override for that key (INFLUXDB_HTTP_AUTH_ENABLED),
 * so the harness still picks the ports, waits for /ping and cleans up.
 */
describe('InfluxDB writer against an influxd with authentication', () => {
  let influxd: InfluxdHandle;
  let wrapperDir: string;
  const admin = { username: 'scanmesh', password: 'c0rrect horse' };

  beforeAll(async () => {
    wrapperDir = await mkdtemp(join(tmpdir(), 'scanmesh-influxd-auth-'));
    const binary = join(wrapperDir, 'influxd');
    await writeFile(binary, '#!/bin/sh\nINFLUXDB_HTTP_AUTH_ENABLED=true exec influxd "$@"\n');
    await chmod(binary, 0o755);
    influxd = await startInfluxd({ binary });
    // With auth on and no user yet, influxd accepts exactly this one unauthenticated statement.
    const q = `CREATE USER "${admin.username}" WITH PASSWORD '${admin.password}' WITH ALL PRIVILEGES`;
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await influxd?.stop();
    if (wrapperDir) await rm(wrapperDir, { recursive: true, force: true });
  });

  it('is really closed to anonymous writes', async () => {
    const res = await fetch(`${influxd.url}/write?db=scanmesh_auth`, {
      method: 'POST',
      body: 'x v=1',
    });
    expect(res.status).toBe(401);
  });

  it('creates the database, writes and reads back rows with a username and password', async () => {
    const { writer: w } = writer(influxd.url, 'scanmesh_auth', admin);
    await w.ensureDatabase();
    const rec = record(50);
    await w.write(attemptPoints(rec, [alpha, beta]));
    const scans = await w.query<Row>('SELECT "job", "hosts_up", "worker" FROM "scan"');
    expect(plain(scans)).toEqual([
      { time: rec.timestampNs, job: 'job-50', hosts_up: 2, worker: 'w1' },
    ]);
    const hosts = await w.query<{ host: string }>('SELECT "host", "job" FROM "host"');
    expect(hosts.map((h) => h.host).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('reports a wrong password as SCANMESH_INFLUX_FAILED with status 401, loudly', async () => {
    const { writer: w, records } = writer(influxd.url, 'scanmesh_auth', {
      username: admin.username,
      password: 'wrong',
    });
    const err = await caught(w.write(attemptPoints(record(51), [alpha])));
    expect(err.code).toBe('SCANMESH_INFLUX_FAILED');
    expect(err.status).toBe(401);
    // Retryable on purpose: the outbox keeps the results until the credentials are fixed, where a
    // non-retryable error would move them to dead/ for good.
    expect(err.retryable).toBe(true);
    expect(records.filter((r) => r.level === 50 && r.status === 401)).toHaveLength(1);
    // Nothing of it was stored.
    const { writer: reader } = writer(influxd.url, 'scanmesh_auth', admin);
    const jobs = await reader.query<{ job: string }>('SELECT "job" FROM "scan"');
    expect(jobs.map((j) => j.job)).not.toContain('job-51');
  });
});

/** A loopback HTTP server that records requests and answers with queued statuses. */
async function fakeInflux() {
  const requests: Array<{
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }> = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = req.url === '/ping' ? 204 : (statuses.shift() ?? 204);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status >= 400 ? '{"error":"boom"}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    statuses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('InfluxDB writer HTTP behaviour (fake server)', () => {
  let fake: Awaited<ReturnType<typeof fakeInflux>>;
  beforeAll(async () => {
    fake = await fakeInflux();
  });
  afterEach(() => {
    fake.requests.length = 0;
    fake.statuses.length = 0;
  });
  afterAll(async () => {
    await fake.close();
  });
  const points = () => hostPoints(record(1), alpha);

  it('sends no credentials when none are configured (not the package default root:root)', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db');
    await w.write(points());
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
    expect(fake.requests[0]?.url).toMatch(/^\/write\?db=db&precision=n(&rp=)?$/);
  });

  it('sends Basic credentials from the URL', async () => {
    const { writer: w } = writer(`http://scan%40mesh:p%3Ass@127.0.0.1:${fake.port}`, 'db');
    await w.write(points());
    const expected = `Basic ${Buffer.from('scan@mesh:p:ss').toString('base64')}`;
    expect(fake.requests[0]?.headers.authorization).toBe(expected);
  });

  it('sends a token as Authorization: Token on writes and pings', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db', { token: 's3cret' });
    await w.write(points());
    expect(await w.ping()).toBe(true);
    expect(fake.requests.map((r) => [r.url.split('?')[0], r.headers.authorization])).toEqual([
      ['/write', 'Token s3cret'],
      ['/ping', 'Token s3cret'],
    ]);
  });

  /*
   * InfluxDB 2.x (and 3.x) cannot run here: this fake stands in for it, and the assertions are on
   * exactly what 2.x documents for its v1 compatibility endpoints (see the writer's comment).
   */
  it('talks to a 2.x/3.x v1 endpoint with the token in an Authorization: Token header only', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}/influx`, 'scanmesh', {
      token: 'tok/en+=',
    });
    await w.ensureDatabase();
    await w.write(points());
    await w.query('SELECT "open" FROM "port"').catch(() => undefined); // the fake's body is empty
    expect(
      fake.requests.map((r) => ({ method: r.method, url: r.url, auth: r.headers.authorization })),
    ).toEqual([
      // No SHOW/CREATE DATABASE first: 2.x and 3.x refuse InfluxQL database management.
      // An empty rp is the default mapping on 2.x and "unspecified" on 3.x.
      { method: 'POST', url: '/influx/write?db=scanmesh&precision=n&rp=', auth: 'Token tok/en+=' },
      {
        method: 'GET',
        url: `/influx/query?db=scanmesh&epoch=&q=${encodeURIComponent('SELECT "open" FROM "port"')}&rp=&params=%7B%7D`,
        auth: 'Token tok/en+=',
      },
    ]);
    // The token never travels in the URL (u/p), where proxies and access logs would keep it.
    for (const r of fake.requests)
      expect(new URL(r.url, 'http://x').searchParams.has('p')).toBe(false);
  });

  it('refuses a token together with a username', () => {
    const make = () => writer(`http://u:p@127.0.0.1:${fake.port}`, 'db', { token: 't' }).writer;
    expect(make).toThrow(expect.objectContaining({ code: 'SCANMESH_BAD_CONFIG' }));
  });

  it('treats 5xx as retryable, makes exactly one request, and does not bench the server', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db');
    fake.statuses.push(503);
    const err = await caught(w.write(points()));
    expect(err.retryable).toBe(true);
    expect(fake.requests).toHaveLength(1);
    // The package would otherwise take the host out of rotation and fail this at once.
    await w.write(points());
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [400, false],
    [413, false],
    [422, false],
    [401, true],
    [404, true],
  ])('classifies HTTP %i as retryable=%s', async (status, retryable) => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db');
    fake.statuses.push(status);
    const err = await caught(w.write(points()));
    expect([err.status, err.retryable]).toEqual([status, retryable]);
  });

  it('sends batches of batchSize points, in order', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db', { batchSize: 2 });
    const plainHost = host('10.0.0.5', {
      ports: [port(1, 'open'), port(2, 'open'), port(3, 'closed')],
    });
    await w.write(hostPoints(record(1), plainHost)); // 4 points, one line each
    await w.write([]);
    expect(fake.requests.map((r) => r.body.split('\n').length)).toEqual([2, 2]);
    expect(fake.requests[0]?.body.startsWith('host,')).toBe(true);
  });

  it('rejects a point that does not fit the schema before sending, as not retryable', async () => {
    const { writer: w } = writer(`http://127.0.0.1:${fake.port}`, 'db');
    const bad: IPoint = { measurement: 'port', fields: { open: 'yes' }, timestamp: '1' };
    const err = await caught(w.write([bad]));
    expect(err.retryable).toBe(false);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends the batches before a point that does not fit, and none from that one on', async () => {
    const { writer: w, records } = writer(`http://127.0.0.1:${fake.port}`, 'db', { batchSize: 2 });
    const bad: IPoint = { measurement: 'port', fields: { open: 'yes' }, timestamp: '1' };
    const plainHost = host('10.0.0.5', {
      ports: [port(1, 'open'), port(2, 'open'), port(3, 'closed')],
    });
    const good = hostPoints(record(1), plainHost); // 4 points, one line each: two full batches
    const err = await caught(w.write([...good, bad, ...good]));
    expect([err.code, err.retryable]).toEqual(['SCANMESH_INFLUX_FAILED', false]);
    expect(err.message).toMatch(/^writing points 4-5 of 9 failed before sending: /);
    expect(fake.requests.map((r) => r.body.split('\n').length)).toEqual([2, 2]);
    expect(records.filter((r) => (r.level as number) >= 40)).toHaveLength(1);
  });

  it('reports a failed batch, not the next one built meanwhile, and sends nothing after it', async () => {
    const { writer: w, records } = writer(`http://127.0.0.1:${fake.port}`, 'db', { batchSize: 2 });
    const bad: IPoint = { measurement: 'port', fields: { open: 'yes' }, timestamp: '1' };
    fake.statuses.push(503);
    const err = await caught(w.write([...hostPoints(record(1), alpha).slice(0, 2), bad]));
    expect([err.status, err.retryable]).toEqual([null, true]);
    expect(err.message).toMatch(/^writing points 0-1 of 3 failed: /);
    expect(fake.requests).toHaveLength(1);
    expect(records.filter((r) => (r.level as number) >= 40)).toHaveLength(1);
  });

  it('refuses bad options at construction, naming the option', () => {
    const logger = logSink().logger;
    const bad = (o: Partial<InfluxWriterOptions>) => () =>
      createInfluxWriter({ url: 'http://127.0.0.1:1', database: 'db', logger, ...o });
    const cases = [{ url: 'nope' }, { url: 'ftp://x' }, { batchSize: 0 }, { database: '' }];
    for (const o of [...cases, { token: '' }]) {
      expect(bad(o)).toThrow(expect.objectContaining({ code: 'SCANMESH_BAD_CONFIG' }));
    }
  });
});
