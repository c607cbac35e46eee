import type { IPoint } from 'influx';
import type { Change } from '../../src/delta/changes.ts';
import { hostSummary } from '../../src/delta/describe.ts';
import type { HostResult, PortResult } from '../../src/nmap/result.ts';
import type { AttemptRecord } from '../../src/storage/attempt.ts';
import type { InfluxWriter } from '../../src/storage/influx-writer.ts';
import {
  EMPTY_TALLY,
  hostPoints,
  masterPoint,
  scanPoint,
  tallyHost,
  workerPoint,
  type WorkerState,
} from '../../src/storage/points.ts';
import { portChangePoints } from '../../src/storage/port-change-points.ts';
import { attemptTimestampNs, unixMsToNs } from '../../src/storage/timestamp.ts';

/**
 * A small mesh's history, 100 minutes of it, written through the real writer with the real point
 * builders: three workers (one drops out for a while), a home network of five hosts whose ports
 * open, close and change version between scans, completed, failed and timed-out attempts, the
 * master's queue and outbox backlog every hello round, and the `port_change` points the delta work
 * writes (its own builder, `portChangePoints`). What the dashboards are tested against, so every
 * panel has something to show.
 */

/** Minutes of history. */
export const SPAN_MIN = 100;
/** How often the master writes `worker` and `master` points here, in seconds (real: --hello-interval). */
const TELEMETRY_EVERY_S = 30;
const MIN = 60_000;

/** Sorted, so the first (what a single-value template variable picks) is the busiest worker. */
export const WORKERS = ['b8:27:eb:4a:10:01', 'b8:27:eb:4a:10:02', 'dc:a6:32:7f:33:03'] as const;
const [PI_A, PI_B, PI_C] = WORKERS;

/** PI_C misses its hello rounds and is INACTIVE from here to here (minutes). */
const PI_C_AWAY = { from: 50, to: 58 } as const;
/** InfluxDB was unreachable from here to here (minutes): the master's backlog grows. */
const OUTAGE = { from: 62, to: 67 } as const;

const SWEEP = '-sV -p 22,53,80,139,443,445,631,5000,8080,9100 10.0.0.0/24';
const SWEEP6 = '-6 -sV -p 22 fd00::17';
const OS_SCAN = '-sS -O 10.0.0.0/24';

function port(
  n: number,
  state: string,
  service: string,
  over: Partial<PortResult> = {},
): PortResult {
  return {
    protocol: 'tcp',
    port: n,
    state,
    reason: state === 'open' ? 'syn-ack' : state === 'closed' ? 'reset' : 'no-response',
    service,
    product: '',
    version: '',
    extrainfo: '',
    cpe: [],
    scripts: [],
    ...over,
  };
}

function host(
  address: string,
  name: string,
  mac: { addr: string; vendor: string } | null,
  over: Partial<HostResult> = {},
): HostResult {
  const v6 = address.includes(':');
  return {
    address,
    addresses: [
      { addr: address, type: v6 ? 'ipv6' : 'ipv4', vendor: '' },
      ...(mac ? [{ addr: mac.addr, type: 'mac' as const, vendor: mac.vendor }] : []),
    ],
    hostnames: name === '' ? [] : [{ name, type: 'PTR' }],
    state: 'up',
    reason: 'arp-response',
    latencyMs: 0.4,
    ports: [],
    extraPorts: [{ state: 'closed', count: 990 }],
    os: [],
    scripts: [],
    startTime: null,
    endTime: null,
    ...over,
  };
}

/** What a sweep of 10.0.0.0/24 finds at minute `at`; the network changes as time goes on. */
function network(at: number): HostResult[] {
  const router = host(
    '10.0.0.1',
    'router.lan',
    { addr: '24:5A:4C:10:00:01', vendor: 'Ubiquiti' },
    {
      latencyMs: 0.31,
      os: [{ name: 'Linux 5.4 - 5.15', accuracy: 95 }],
      ports: [
        port(22, 'open', 'ssh', {
          product: 'OpenSSH',
          version: '8.4p1',
          extrainfo: 'protocol 2.0',
        }),
        port(53, 'open', 'domain', { product: 'dnsmasq', version: '2.85' }),
        // Upgraded between the sweeps at minutes 45 and 60.
        port(80, 'open', 'http', { product: 'lighttpd', version: at >= 60 ? '1.4.69' : '1.4.59' }),
        port(443, 'closed', 'https'),
      ],
    },
  );
  const nas = host(
    '10.0.0.10',
    'nas.lan',
    { addr: '00:11:32:AB:CD:10', vendor: 'Synology' },
    {
      latencyMs: 0.52,
      ports: [
        port(22, 'open', 'ssh', { product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u2' }),
        port(139, 'open', 'netbios-ssn', { product: 'Samba smbd', version: '4.6.2' }),
        port(445, 'open', 'microsoft-ds', { product: 'Samba smbd', version: '4.6.2' }),
        port(5000, 'filtered', 'upnp'),
        // A proxy someone started between the sweeps at minutes 30 and 45.
        at >= 45
          ? port(8080, 'open', 'http-proxy', { product: 'Squid http proxy', version: '5.7' })
          : port(8080, 'closed', 'http-proxy'),
      ],
    },
  );
  const printer = host(
    '10.0.0.23',
    '',
    { addr: '3C:2A:F4:00:23:23', vendor: 'Brother' },
    {
      latencyMs: 3.8,
      ports: [
        port(631, 'open', 'ipp', { product: 'CUPS', version: '2.4' }),
        // Switched off in the printer's menu before the sweep at minute 75.
        port(9100, at >= 75 ? 'closed' : 'open', 'jetdirect'),
      ],
    },
  );
  // A laptop that leaves the network before the sweep at minute 30.
  const laptop =
    at >= 30
      ? host('10.0.0.42', '', null, {
          state: 'down',
          reason: 'no-response',
          latencyMs: null,
          extraPorts: [],
        })
      : host(
          '10.0.0.42',
          'laptop.lan',
          { addr: 'F0:18:98:42:42:42', vendor: 'Apple' },
          {
            latencyMs: 6.2,
            ports: [port(22, 'open', 'ssh', { product: 'OpenSSH', version: '9.0' })],
          },
        );
  return [router, nas, printer, laptop];
}

const server6 = host('fd00::17', 'build.lan', null, {
  reason: 'echo-reply',
  latencyMs: 0.9,
  ports: [port(22, 'open', 'ssh', { product: 'Dropbear sshd', version: '2022.83' })],
});

interface Attempt {
  job: string;
  jobSeq: number;
  command: string;
  attempt: number;
  worker: string;
  status: 'completed' | 'failed' | 'timeout';
  /** Minutes after the start of the history. */
  startMin: number;
  durationS: number;
  hosts: HostResult[];
  exitCode: number | null;
  error: string;
  code: string;
}

/** Every attempt that ended, in the order they started. */
function attempts(): Attempt[] {
  const list: Attempt[] = [];
  const done = (a: Omit<Attempt, 'exitCode' | 'error' | 'code' | 'status' | 'attempt'>) =>
    list.push({ ...a, attempt: 1, status: 'completed', exitCode: 0, error: '', code: '' });
  // The sweep runs every 15 minutes, on whichever worker waits.
  const sweepers = [PI_A, PI_B, PI_A, PI_C, PI_B, PI_A, PI_B];
  sweepers.forEach((worker, i) => {
    done({
      job: `j-5c0d9e1a-${i}`,
      jobSeq: 1 + i * 3,
      command: SWEEP,
      worker,
      startMin: i * 15,
      durationS: 142.5 + 37 * (i % 3),
      hosts: network(i * 15),
    });
  });
  done({
    job: 'j-9a41be07-0',
    jobSeq: 2,
    command: SWEEP6,
    worker: PI_C,
    startMin: 5,
    durationS: 8.25,
    hosts: [server6],
  });
  done({
    job: 'j-9a41be07-1',
    jobSeq: 14,
    command: SWEEP6,
    worker: PI_A,
    startMin: 47,
    durationS: 7.9,
    hosts: [server6],
  });
  // An OS scan: refused on PI_A (no raw sockets), timed out on PI_B, done on PI_C.
  const os = { job: 'j-e7730f52-0', jobSeq: 6, command: OS_SCAN, hosts: [] };
  list.push({
    ...os,
    attempt: 1,
    worker: PI_A,
    status: 'failed',
    startMin: 20,
    durationS: 0.4,
    exitCode: 1,
    error: 'You requested a scan type which requires root privileges.',
    code: 'SCANMESH_NEEDS_ROOT',
  });
  list.push({
    ...os,
    attempt: 2,
    worker: PI_B,
    status: 'timeout',
    startMin: 21,
    durationS: 300,
    exitCode: null,
    error: 'nmap stopped at the job timeout (300 s)',
    code: 'SCANMESH_NMAP_TIMEOUT',
  });
  list.push({
    ...os,
    attempt: 3,
    worker: PI_C,
    status: 'completed',
    startMin: 27,
    durationS: 251.3,
    exitCode: 0,
    error: '',
    code: '',
    hosts: network(27),
  });
  return list.sort((a, b) => a.startMin - b.startMin);
}

function record(a: Attempt, baseMs: number): AttemptRecord {
  const startedAt = baseMs + a.startMin * MIN;
  return {
    job: a.job,
    jobSeq: a.jobSeq,
    command: `nmap ${a.command}`,
    attempt: a.attempt,
    worker: a.worker,
    status: a.status,
    exitCode: a.exitCode,
    error: a.error,
    code: a.code,
    meta: null,
    stats: null,
    startedAt,
    finishedAt: startedAt + Math.round(a.durationS * 1000),
    hostCount: a.hosts.length,
    timestampNs: attemptTimestampNs(Math.floor(startedAt / 1000), a.jobSeq, a.attempt),
  };
}

/** Every point of one attempt, hosts first and the scan last, as the master's outbox writes them. */
function attemptPoints(rec: AttemptRecord, hosts: readonly HostResult[]): IPoint[] {
  let tally = EMPTY_TALLY;
  const points: IPoint[] = [];
  for (const h of hosts) {
    tally = tallyHost(tally, h);
    points.push(...hostPoints(rec, h));
  }
  return [...points, scanPoint(rec, tally)];
}

/**
 * The changes the delta work reports for the history above, each at the attempt that saw it, as
 * `compareHost` words them: a baseline per host, then a laptop gone, a proxy started, a web server
 * upgraded, and a printer port closed by a scan that lost packets.
 */
function changes(recs: readonly AttemptRecord[]): IPoint[] {
  const sweeps = recs.filter((r) => r.command === `nmap ${SWEEP}`);
  const sweep = (min: number) => {
    const rec = sweeps[min / 15];
    const previous = sweeps[min / 15 - 1];
    if (!rec || !previous) throw new Error(`no sweep at minute ${min}`);
    return { rec, previous };
  };
  const points: IPoint[] = [];
  const baseline = (rec: AttemptRecord | undefined, hosts: readonly HostResult[]) => {
    if (!rec) throw new Error('no attempt for a baseline');
    const found: Change[] = hosts.map((h) => ({
      host: h.address,
      port: null,
      protocol: null,
      change: 'baseline',
      before: '',
      after: hostSummary(h),
      job: rec.job,
      previousJob: '',
      noisy: false,
    }));
    points.push(...portChangePoints(rec, found));
  };
  baseline(sweeps[0], network(0));
  baseline(
    recs.find((r) => r.command === `nmap ${SWEEP6}`),
    [server6],
  );

  type Found = Pick<Change, 'host' | 'port' | 'change' | 'before' | 'after' | 'noisy'>;
  const at = (min: number, found: Found) => {
    const { rec, previous } = sweep(min);
    const protocol = found.port === null ? null : 'tcp';
    const change = { ...found, protocol, job: rec.job, previousJob: previous.job };
    points.push(...portChangePoints(rec, [change]));
  };
  at(30, {
    host: '10.0.0.42',
    port: null,
    change: 'host-down',
    before: 'up',
    after: 'down (no-response)',
    noisy: false,
  });
  at(45, {
    host: '10.0.0.10',
    port: 8080,
    change: 'port-opened',
    before: 'closed http-proxy',
    after: 'open http-proxy Squid http proxy 5.7',
    noisy: false,
  });
  at(60, {
    host: '10.0.0.1',
    port: 80,
    change: 'version-changed',
    before: 'open http lighttpd 1.4.59',
    after: 'open http lighttpd 1.4.69',
    noisy: false,
  });
  at(75, {
    host: '10.0.0.23',
    port: 9100,
    change: 'port-closed',
    before: 'open jetdirect',
    after: 'closed jetdirect',
    noisy: true,
  });
  return points;
}

/**
 * The request counter of PI_C: it stops answering a minute before it counts as gone, so the
 * counter reads 1, 2 while it is still WAITING, then 3, 4, … while INACTIVE (one round per sample
 * here), and 0 again once it answers.
 */
function missedRounds(min: number): number {
  const since = PI_C_AWAY.from - 1;
  if (min < since || min >= PI_C_AWAY.to) return 0;
  return Math.floor(((min - since) * 60) / TELEMETRY_EVERY_S) + 1;
}

function telemetry(recs: readonly AttemptRecord[], baseMs: number): IPoint[] {
  const points: IPoint[] = [];
  const endMs = baseMs + SPAN_MIN * MIN;
  for (let t = baseMs; t <= endMs; t += TELEMETRY_EVERY_S * 1000) {
    const min = (t - baseMs) / MIN;
    const running = recs.filter((r) => r.startedAt <= t && t < r.finishedAt);
    const ended = recs.filter((r) => r.finishedAt <= t);
    let active = 0;
    for (const worker of WORKERS) {
      const mine = running.filter((r) => r.worker === worker).length;
      const away = worker === PI_C && min >= PI_C_AWAY.from && min < PI_C_AWAY.to;
      const state: WorkerState = away ? 'INACTIVE' : mine > 0 ? 'ACTIVE' : 'WAITING';
      if (state === 'ACTIVE') active += 1;
      points.push(
        workerPoint(
          {
            worker,
            state,
            active: mine,
            requestCounter: worker === PI_C ? missedRounds(min) : 0,
            jobsDone: ended.filter((r) => r.worker === worker && r.status === 'completed').length,
            jobsFailed: ended.filter((r) => r.worker === worker && r.status !== 'completed').length,
          },
          unixMsToNs(t),
        ),
      );
    }
    // A job waits in the queue from a minute before its start until a worker takes it.
    const queued = recs.filter((r) => r.startedAt - MIN <= t && t < r.startedAt).length;
    const outage = min >= OUTAGE.from && min < OUTAGE.to;
    points.push(
      masterPoint(
        {
          master: 'scanmesh-master',
          queue: queued,
          running: running.length,
          done: ended.filter((r) => r.status === 'completed').length,
          // Jobs failed for good: none here, the OS scan's third attempt completed it.
          failed: 0,
          backlog: outage
            ? ended.filter((r) => r.finishedAt >= baseMs + OUTAGE.from * MIN).length + 1
            : 0,
          workers: WORKERS.length,
          workersActive: active,
        },
        unixMsToNs(t),
      ),
    );
  }
  return points;
}

export interface Seeded {
  /** Unix milliseconds: the first and last point written. */
  fromMs: number;
  toMs: number;
  points: number;
}

/** Write the whole history through `writer`, starting at `baseMs` (whole seconds). */
export async function seedMesh(writer: InfluxWriter, baseMs: number): Promise<Seeded> {
  await writer.ensureDatabase();
  const list = attempts();
  const recs = list.map((a) => record(a, baseMs));
  const points: IPoint[] = [];
  list.forEach((a, i) => points.push(...attemptPoints(recs[i] as AttemptRecord, a.hosts)));
  points.push(...changes(recs), ...telemetry(recs, baseMs));
  await writer.write(points);
  return { fromMs: baseMs, toMs: baseMs + SPAN_MIN * MIN, points: points.length };
}
