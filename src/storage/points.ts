import { FieldType, type IPoint, type ISchemaOptions } from 'influx';
import type { HostResult, PortResult } from '../nmap/result.ts';
import type { AttemptRecord } from './attempt.ts';

/**
 * Scan results and telemetry → InfluxDB points (pure). The schema is public and fixed: a field never
 * changes type, because InfluxDB refuses every later write of a field under another type (per
 * shard). `schemas` below is what makes integers go out as integers (`42i`) and floats as floats
 * (`1`, never `1i`), so the first point ever written cannot fix the wrong type.
 */

export const MEASUREMENT = {
  scan: 'scan',
  host: 'host',
  port: 'port',
  worker: 'worker',
  master: 'master',
  /** Deltas: one point per change (port-change-points.ts). */
  portChange: 'port_change',
} as const;

/** What the scan point needs from the hosts, accumulated while they stream past one at a time. */
export interface ScanTally {
  hostsUp: number;
  hostsDown: number;
  /** Ports in state `open` over all hosts. */
  openPorts: number;
}

export const EMPTY_TALLY: Readonly<ScanTally> = Object.freeze({
  hostsUp: 0,
  hostsDown: 0,
  openPorts: 0,
});

/** The tally with one more host counted. Hosts in state `unknown` count as neither up nor down. */
export function tallyHost(tally: Readonly<ScanTally>, host: HostResult): ScanTally {
  return {
    hostsUp: tally.hostsUp + (host.state === 'up' ? 1 : 0),
    hostsDown: tally.hostsDown + (host.state === 'down' ? 1 : 0),
    openPorts: tally.openPorts + countOpen(host.ports),
  };
}

/**
 * The `scan` point of one ended attempt. Pass the hosts when they fit in memory, or the tally the
 * caller accumulated with `tallyHost` while streaming them (a /16 sweep has 65k hosts). Up/down
 * counts come from nmap's own runstats when present (they include hosts nmap did not list), else
 * from the hosts.
 */
export function scanPoint(
  rec: AttemptRecord,
  hosts: readonly HostResult[] | Readonly<ScanTally>,
): IPoint {
  const tally = isHostList(hosts) ? hosts.reduce(tallyHost, EMPTY_TALLY) : hosts;
  return {
    measurement: MEASUREMENT.scan,
    tags: { worker: tagValue(rec.worker), status: tagValue(rec.status) },
    fields: {
      job: rec.job,
      attempt: rec.attempt,
      command: rec.command,
      duration_s: (rec.finishedAt - rec.startedAt) / 1000,
      hosts_up: rec.stats?.hostsUp ?? tally.hostsUp,
      hosts_down: rec.stats?.hostsDown ?? tally.hostsDown,
      open_ports: tally.openPorts,
      exit_code: rec.exitCode ?? -1,
      error: rec.error,
    },
    timestamp: rec.timestampNs,
  };
}

/** The `host` point of one host of an attempt, followed by one `port` point per listed port. */
export function hostPoints(rec: AttemptRecord, host: HostResult): IPoint[] {
  const mac = host.addresses.find((a) => a.type === 'mac');
  const fields: Record<string, string | number> = {
    job: rec.job,
    hostname: host.hostnames[0]?.name ?? '',
    mac: mac?.addr ?? '',
    vendor: mac?.vendor ?? '',
    os: bestOsName(host),
    open_ports: countOpen(host.ports),
  };
  // No latency is no field: a made-up 0 or -1 would skew every mean and percentile.
  if (host.latencyMs !== null) fields.latency_ms = host.latencyMs;
  // Once per host, not once per port: a sweep writes hundreds of thousands of port points.
  const hostTag = tagValue(host.address);
  const workerTag = tagValue(rec.worker);
  const points: IPoint[] = [
    {
      measurement: MEASUREMENT.host,
      tags: { host: hostTag, worker: workerTag, status: host.state },
      fields,
      timestamp: rec.timestampNs,
    },
  ];
  for (const port of host.ports) points.push(portPoint(rec, hostTag, workerTag, port));
  return points;
}

function portPoint(
  rec: AttemptRecord,
  hostTag: string,
  workerTag: string,
  port: PortResult,
): IPoint {
  return {
    measurement: MEASUREMENT.port,
    tags: {
      host: hostTag,
      port: String(port.port),
      protocol: tagValue(port.protocol),
      state: tagValue(port.state),
      worker: workerTag,
    },
    fields: {
      job: rec.job,
      open: port.state === 'open' ? 1 : 0,
      service: port.service,
      product: port.product,
      version: port.version,
      extrainfo: port.extrainfo,
      reason: port.reason,
    },
    timestamp: rec.timestampNs,
  };
}

export type WorkerState = 'WAITING' | 'ACTIVE' | 'INACTIVE';

export interface WorkerTelemetry {
  worker: string;
  state: WorkerState;
  /** Jobs the worker is running right now. */
  active: number;
  requestCounter: number;
  jobsDone: number;
  jobsFailed: number;
}

/** One `worker` telemetry point at `atUnixNs` (see `unixMsToNs`; the master's clock). */
export function workerPoint(t: WorkerTelemetry, atUnixNs: string): IPoint {
  return {
    measurement: MEASUREMENT.worker,
    tags: { worker: tagValue(t.worker) },
    fields: {
      state: t.state,
      active: t.active,
      request_counter: t.requestCounter,
      jobs_done: t.jobsDone,
      jobs_failed: t.jobsFailed,
    },
    timestamp: atUnixNs,
  };
}

export interface MasterTelemetry {
  master: string;
  /** Jobs waiting for a worker. */
  queue: number;
  running: number;
  done: number;
  failed: number;
  /** Attempts stored durably but not yet written to InfluxDB. */
  backlog: number;
  workers: number;
  workersActive: number;
}

/** One `master` telemetry point at `atUnixNs` (see `unixMsToNs`). */
export function masterPoint(t: MasterTelemetry, atUnixNs: string): IPoint {
  return {
    measurement: MEASUREMENT.master,
    tags: { master: tagValue(t.master) },
    fields: {
      queue: t.queue,
      running: t.running,
      done: t.done,
      failed: t.failed,
      backlog: t.backlog,
      workers: t.workers,
      workers_active: t.workersActive,
    },
    timestamp: atUnixNs,
  };
}

const { FLOAT, INTEGER, STRING } = FieldType;

/**
 * The schema of every measurement, without a database: the writer copies them with its own
 * database set (the influx package writes `database` into schema objects it is given, so sharing
 * these objects between clients would bind them all to the first client's database). Frozen so
 * that mistake fails loudly instead of silently writing integers as floats.
 */
export const schemas: readonly Readonly<ISchemaOptions>[] = deepFreeze<ISchemaOptions[]>([
  {
    measurement: MEASUREMENT.scan,
    tags: ['worker', 'status'],
    fields: {
      job: STRING,
      attempt: INTEGER,
      command: STRING,
      duration_s: FLOAT,
      hosts_up: INTEGER,
      hosts_down: INTEGER,
      open_ports: INTEGER,
      exit_code: INTEGER,
      error: STRING,
    },
  },
  {
    measurement: MEASUREMENT.host,
    tags: ['host', 'worker', 'status'],
    fields: {
      job: STRING,
      hostname: STRING,
      mac: STRING,
      vendor: STRING,
      os: STRING,
      latency_ms: FLOAT,
      open_ports: INTEGER,
    },
  },
  {
    measurement: MEASUREMENT.port,
    tags: ['host', 'port', 'protocol', 'state', 'worker'],
    fields: {
      job: STRING,
      open: INTEGER,
      service: STRING,
      product: STRING,
      version: STRING,
      extrainfo: STRING,
      reason: STRING,
    },
  },
  {
    measurement: MEASUREMENT.worker,
    tags: ['worker'],
    fields: {
      state: STRING,
      active: INTEGER,
      request_counter: INTEGER,
      jobs_done: INTEGER,
      jobs_failed: INTEGER,
    },
  },
  {
    measurement: MEASUREMENT.master,
    tags: ['master'],
    fields: {
      queue: INTEGER,
      running: INTEGER,
      done: INTEGER,
      failed: INTEGER,
      backlog: INTEGER,
      workers: INTEGER,
      workers_active: INTEGER,
    },
  },
  {
    measurement: MEASUREMENT.portChange,
    tags: ['host', 'port', 'protocol', 'change'],
    fields: {
      before: STRING,
      after: STRING,
      job: STRING,
      previous_job: STRING,
      noisy: INTEGER,
    },
  },
]);

/**
 * InfluxDB refuses an empty tag value (the line fails to parse), so an empty value becomes '-'.
 * Control characters (a newline ends a line-protocol line) become spaces.
 */
export function tagValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean === '' ? '-' : clean;
}

function countOpen(ports: readonly PortResult[]): number {
  let open = 0;
  for (const port of ports) if (port.state === 'open') open += 1;
  return open;
}

/** The most accurate OS match (nmap lists them best first, but do not rely on it); '' if none. */
function bestOsName(host: HostResult): string {
  let best = host.os[0];
  for (const match of host.os) if (best && match.accuracy > best.accuracy) best = match;
  return best?.name ?? '';
}

function isHostList(
  hosts: readonly HostResult[] | Readonly<ScanTally>,
): hosts is readonly HostResult[] {
  return Array.isArray(hosts);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
