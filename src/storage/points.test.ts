import { FieldType, InfluxDB } from 'influx';
import { describe, expect, it } from 'vitest';
import { attemptRecord, host, port } from '../../test/harness/results.ts';
import type { AttemptRecord } from './attempt.ts';
import {
  EMPTY_TALLY,
  hostPoints,
  masterPoint,
  scanPoint,
  schemas,
  tagValue,
  tallyHost,
  workerPoint,
} from './points.ts';

const TS = '1700000000000042001';

function record(over: Partial<AttemptRecord> = {}): AttemptRecord {
  return attemptRecord({
    job: 'job-42',
    jobSeq: 42,
    command: 'nmap -sT -p 22,80 10.0.0.0/30',
    finishedAt: 1_700_000_002_500,
    hostCount: 2,
    timestampNs: TS,
    ...over,
  });
}

const alpha = host('10.0.0.1', {
  addresses: [
    { addr: '10.0.0.1', type: 'ipv4', vendor: '' },
    { addr: 'AA:BB:CC:DD:EE:FF', type: 'mac', vendor: 'Acme' },
  ],
  hostnames: [
    { name: 'alpha.lan', type: 'user' },
    { name: 'alpha-ptr.lan', type: 'PTR' },
  ],
  latencyMs: 0.25,
  os: [
    { name: 'Linux 4.x', accuracy: 90 },
    { name: 'Linux 5.x', accuracy: 96 },
  ],
  ports: [
    port(22, 'open', { product: 'OpenSSH', version: '9.6', extrainfo: 'protocol 2.0' }),
    port(80, 'closed', { service: 'http', reason: 'reset' }),
    port(443, 'open|filtered', { service: 'https', reason: 'no-response' }),
  ],
});
const beta = host('10.0.0.2', { state: 'down', reason: 'no-response' });

describe('scanPoint', () => {
  it('summarises an attempt from its hosts when nmap gave no runstats', () => {
    expect(scanPoint(record(), [alpha, beta])).toEqual({
      measurement: 'scan',
      tags: { worker: 'w1', status: 'completed' },
      fields: {
        job: 'job-42',
        attempt: 1,
        command: 'nmap -sT -p 22,80 10.0.0.0/30',
        duration_s: 2.5,
        hosts_up: 1,
        hosts_down: 1,
        open_ports: 1,
        exit_code: 0,
        error: '',
      },
      timestamp: TS,
    });
  });

  it('gives the same point from a streamed tally as from the host list', () => {
    const tally = [alpha, beta].reduce(tallyHost, EMPTY_TALLY);
    expect(tally).toEqual({ hostsUp: 1, hostsDown: 1, openPorts: 1 });
    expect(scanPoint(record(), tally)).toEqual(scanPoint(record(), [alpha, beta]));
  });

  it('takes up/down counts from runstats, which include hosts nmap did not list', () => {
    const stats = {
      end: null,
      elapsedS: 2.5,
      exit: 'success',
      errorMessage: '',
      summary: '',
      hostsUp: 3,
      hostsDown: 253,
      hostsTotal: 256,
    };
    const fields = scanPoint(record({ stats }), [alpha]).fields;
    expect(fields).toMatchObject({ hosts_up: 3, hosts_down: 253, open_ports: 1 });
  });

  it('writes exit_code -1 when the process gave none, and keeps the error text', () => {
    const rec = record({ status: 'timeout', exitCode: null, error: 'killed at timeout' });
    const point = scanPoint(rec, EMPTY_TALLY);
    expect(point.tags).toEqual({ worker: 'w1', status: 'timeout' });
    expect(point.fields).toMatchObject({ exit_code: -1, error: 'killed at timeout', hosts_up: 0 });
  });
});

describe('hostPoints', () => {
  it('gives the host point first, then one point per listed port, all at the attempt time', () => {
    expect(hostPoints(record(), alpha)).toEqual([
      {
        measurement: 'host',
        tags: { host: '10.0.0.1', worker: 'w1', status: 'up' },
        fields: {
          job: 'job-42',
          hostname: 'alpha.lan',
          mac: 'AA:BB:CC:DD:EE:FF',
          vendor: 'Acme',
          os: 'Linux 5.x',
          latency_ms: 0.25,
          open_ports: 1,
        },
        timestamp: TS,
      },
      {
        measurement: 'port',
        tags: { host: '10.0.0.1', port: '22', protocol: 'tcp', state: 'open', worker: 'w1' },
        fields: {
          job: 'job-42',
          open: 1,
          service: 'ssh',
          product: 'OpenSSH',
          version: '9.6',
          extrainfo: 'protocol 2.0',
          reason: 'syn-ack',
        },
        timestamp: TS,
      },
      {
        measurement: 'port',
        tags: { host: '10.0.0.1', port: '80', protocol: 'tcp', state: 'closed', worker: 'w1' },
        fields: {
          job: 'job-42',
          open: 0,
          service: 'http',
          product: '',
          version: '',
          extrainfo: '',
          reason: 'reset',
        },
        timestamp: TS,
      },
      {
        measurement: 'port',
        tags: {
          host: '10.0.0.1',
          port: '443',
          protocol: 'tcp',
          state: 'open|filtered',
          worker: 'w1',
        },
        fields: {
          job: 'job-42',
          open: 0,
          service: 'https',
          product: '',
          version: '',
          extrainfo: '',
          reason: 'no-response',
        },
        timestamp: TS,
      },
    ]);
  });

  it('leaves latency out rather than inventing one, and fills missing strings with ""', () => {
    const [point, ...ports] = hostPoints(record(), beta);
    expect(ports).toEqual([]);
    expect(point).toEqual({
      measurement: 'host',
      tags: { host: '10.0.0.2', worker: 'w1', status: 'down' },
      fields: { job: 'job-42', hostname: '', mac: '', vendor: '', os: '', open_ports: 0 },
      timestamp: TS,
    });
  });
});

describe('telemetry points', () => {
  it('builds a worker point', () => {
    const t = { worker: 'w1', state: 'ACTIVE' as const, active: 1 };
    expect(
      workerPoint({ ...t, requestCounter: 7, jobsDone: 5, jobsFailed: 1 }, '1700000000123000000'),
    ).toEqual({
      measurement: 'worker',
      tags: { worker: 'w1' },
      fields: { state: 'ACTIVE', active: 1, request_counter: 7, jobs_done: 5, jobs_failed: 1 },
      timestamp: '1700000000123000000',
    });
  });

  it('builds a master point', () => {
    const t = { master: 'm1', queue: 3, running: 2, done: 10, failed: 1 };
    expect(masterPoint({ ...t, backlog: 4, workers: 5, workersActive: 2 }, '1')).toEqual({
      measurement: 'master',
      tags: { master: 'm1' },
      fields: {
        queue: 3,
        running: 2,
        done: 10,
        failed: 1,
        backlog: 4,
        workers: 5,
        workers_active: 2,
      },
      timestamp: '1',
    });
  });
});

describe('tagValue', () => {
  it('replaces the empty value InfluxDB refuses, and control characters that end a line', () => {
    expect(tagValue('')).toBe('-');
    expect(tagValue('a\nb\tc')).toBe('a b c');
    expect(tagValue('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('schemas', () => {
  it('declares every field the point builders write, with its type', () => {
    const byName = new Map(schemas.map((s) => [s.measurement, s]));
    expect(byName.get('port')?.fields.open).toBe(FieldType.INTEGER);
    expect(byName.get('host')?.fields.latency_ms).toBe(FieldType.FLOAT);
    expect(byName.get('scan')?.fields.duration_s).toBe(FieldType.FLOAT);
    expect(byName.get('scan')?.fields.attempt).toBe(FieldType.INTEGER);
    const points = [
      scanPoint(record(), [alpha]),
      ...hostPoints(record(), alpha),
      workerPoint(
        { worker: 'w', state: 'WAITING', active: 0, requestCounter: 0, jobsDone: 0, jobsFailed: 0 },
        '1',
      ),
      masterPoint(
        {
          master: 'm',
          queue: 0,
          running: 0,
          done: 0,
          failed: 0,
          backlog: 0,
          workers: 0,
          workersActive: 0,
        },
        '1',
      ),
    ];
    for (const point of points) {
      const schema = byName.get(point.measurement ?? '');
      expect(Object.keys(point.fields ?? {}).sort()).toEqual(
        Object.keys(schema?.fields ?? {})
          .filter((f) => f in (point.fields ?? {}))
          .sort(),
      );
      expect(Object.keys(point.tags ?? {}).sort()).toEqual([...(schema?.tags ?? [])].sort());
    }
  });

  it('renders integers with the i suffix and whole floats without it (line protocol)', () => {
    // parsePoint is what writePoints runs: no network involved.
    const influx = new InfluxDB({
      database: 'db',
      schema: schemas.map((s) => ({ ...s, tags: [...s.tags], fields: { ...s.fields } })),
    });
    const rec = record({ finishedAt: 1_700_000_002_000 });
    const scan = influx.parsePoint(scanPoint(rec, [alpha]));
    expect(Object.fromEntries(scan.fieldsPairs)).toMatchObject({
      duration_s: '2',
      hosts_up: '1i',
      open_ports: '1i',
      exit_code: '0i',
      attempt: '1i',
      job: '"job-42"',
    });
    const [h, p] = hostPoints(record(), { ...alpha, latencyMs: 1 }).map((x) =>
      influx.parsePoint(x),
    );
    expect(Object.fromEntries(h?.fieldsPairs ?? [])).toMatchObject({
      latency_ms: '1',
      open_ports: '1i',
    });
    expect(Object.fromEntries(p?.fieldsPairs ?? [])).toMatchObject({ open: '1i' });
    expect(scan.castedTimestamp).toBe(TS);
  });

  it('is frozen, so the influx package cannot bind the shared objects to one database', () => {
    expect(Object.isFrozen(schemas[0])).toBe(true);
    expect(() => new InfluxDB({ database: 'db', schema: schemas as never })).toThrow(TypeError);
  });
});
