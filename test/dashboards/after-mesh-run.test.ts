import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort } from '../harness/listeners.ts';
import { ScanmeshProcess } from '../harness/scanmesh-process.ts';
import { loadDashboards } from './dashboard-queries.ts';
import { checkDashboard, httpQuery, readSchema, type RunQuery } from './query-checker.ts';

/**
 * The dashboards against what a real mesh wrote, not what a seed script wrote: `scanmesh master`
 * with a private influxd, two `scanmesh worker` processes, real nmap on 127.0.0.1. The run holds
 * what the panels show: completed and failed jobs, a worker that goes away (INACTIVE), and two
 * runs of one command with a listener opened between (a baseline and a real change). Then every
 * query of every dashboard runs as Grafana would send it and must return rows (query-checker.ts).
 */

const DIR = fileURLToPath(new URL('../../broker/grafana/dashboards/', import.meta.url));
const DATABASE = 'mesh';
const dashboards = await loadDashboards(DIR);

/**
 * Every address in 127.0.0.0/8 answers, and tests may scan nothing else, so no real run here has
 * a host nmap reports down: this panel stays empty. queries.test.ts checks it against history that
 * has down hosts.
 */
const LOOPBACK_NEVER_DOWN = ['panel "Hosts seen down" target A'];

function partition<T>(list: readonly T[], test: (x: T) => boolean): [T[], T[]] {
  return [list.filter(test), list.filter((x) => !test(x))];
}

/** A listener that greets like sshd, so that -sV names a product and version at once. */
async function sshBanner(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

describe('dashboard queries after a real mesh run', () => {
  let influxd: InfluxdHandle;
  let dir: string;
  let master: ScanmeshProcess;
  const workers: ScanmeshProcess[] = [];
  let late: net.Server | null = null;
  let banner: { port: number; server: net.Server };
  let run: RunQuery;
  let startedAt: number;

  beforeAll(async () => {
    startedAt = Date.now();
    influxd = await startInfluxd();
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-dash-'));
    banner = await sshBanner();
    const opened = await closedPort('127.0.0.1');
    const commands = join(dir, 'commands.txt');
    // No silent listener here: -sV would wait out its probes on it.
    const ports = [banner.port, opened].join(',');
    const line = `nmap -sT -sV -Pn -p ${ports} 127.0.0.1\n`;
    // Fails for good: 65,535 ports at 100 packets/s cannot finish within the job timeout.
    await writeFile(commands, `${line}nmap -sT -Pn -p- --max-rate 100 127.0.0.1\n`);
    master = new ScanmeshProcess([
      'master',
      '--port',
      '0',
      '--bind',
      '127.0.0.1',
      '--allow-anonymous',
      '--commands',
      commands,
      '--state-dir',
      join(dir, 'master'),
      '--influx-url',
      influxd.url,
      '--influx-db',
      DATABASE,
      '--hello-interval',
      '1',
      '--job-timeout',
      '15',
      '--max-attempts',
      '1',
    ]);
    const listening = await master.waitFor((l) => l.msg === 'embedded broker listening');
    for (const id of ['w1', 'w2']) {
      workers.push(
        new ScanmeshProcess([
          'worker',
          '--broker-url',
          `mqtt://127.0.0.1:${String(listening.port)}`,
          '--id',
          id,
          '--state-dir',
          join(dir, id),
          '--master-key',
          join(dir, 'master', 'master.pub'),
        ]),
      );
    }
    await master.waitFor((l) => l.msg === 'job done', 120_000, 'the first scan');
    await master.waitFor((l) => l.msg === 'job failed', 120_000, 'the failing scan');
    late = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    });
    await new Promise<void>((r) => late?.listen(opened, '127.0.0.1', r));
    await appendFile(commands, line);
    await master.waitFor(
      (l) => l.msg === 'job changes' && l.changes === 1,
      120_000,
      'the second run of the command, with its change',
    );
    // w2 vanishes without a goodbye: three missed rounds later the master calls it INACTIVE.
    await workers[1]?.kill('SIGKILL');
    await master.waitFor(
      (l) => l.msg === 'worker inactive' && l.worker === 'w2',
      30_000,
      'w2 inactive',
    );
    // Everything filed, compared and written: three attempts, two changes.
    run = httpQuery(influxd.url, DATABASE);
    const count = async (q: string) => (await run(q))[0]?.series?.[0]?.values?.[0]?.[1];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const scans = await count('SELECT count("job") FROM "scan"');
      const changes = await count('SELECT count("after") FROM "port_change"');
      if (scans === 3 && changes === 2) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    // A few more hello rounds of telemetry with w2 INACTIVE.
    await new Promise((res) => setTimeout(res, 3000));
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await master?.kill('SIGTERM');
    await new Promise((r) => (banner ? banner.server.close(r) : r(null)));
    await new Promise((r) => (late ? late.close(r) : r(null)));
    await influxd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: every query returns rows from what the mesh wrote',
    async (_file, dashboard) => {
      const schema = await readSchema(run);
      const report = await checkDashboard(dashboard, run, schema, {
        fromMs: startedAt - 60_000,
        toMs: Date.now() + 60_000,
        interval: '1s',
      });
      const [unavoidable, problems] = partition(report.problems, (p) =>
        LOOPBACK_NEVER_DOWN.includes(p.where),
      );
      expect(problems).toEqual([]);
      expect(unavoidable.map((p) => p.problem)).toEqual(
        unavoidable.length > 0 ? ['returned no rows'] : [],
      );
      expect(report.executed).toBeGreaterThan(0);
    },
  );
});
