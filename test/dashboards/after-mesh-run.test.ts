import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort, listenOn, openListeners, type Listeners } from '../harness/listeners.ts';
import { eventually, startLoopbackMaster, workerArgs } from '../harness/mesh-processes.ts';
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

const SSHD = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';

describe('dashboard queries after a real mesh run', () => {
  let influxd: InfluxdHandle;
  let dir: string;
  let master: ScanmeshProcess;
  const workers: ScanmeshProcess[] = [];
  const listeners: Listeners[] = [];
  let run: RunQuery;
  let startedAt: number;

  beforeAll(async () => {
    startedAt = Date.now();
    influxd = await startInfluxd();
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-dash-'));
    // Greets like sshd, so that -sV names a product and version at once.
    const banner = await openListeners('127.0.0.1', 1, { greeting: () => SSHD });
    listeners.push(banner);
    const opened = await closedPort('127.0.0.1');
    const commands = join(dir, 'commands.txt');
    // No silent listener here: -sV would wait out its probes on it.
    const ports = [...banner.ports, opened].join(',');
    const line = `nmap -sT -sV -Pn -p ${ports} 127.0.0.1\n`;
    // Fails for good: 65,535 ports at 100 packets/s cannot finish within the job timeout.
    await writeFile(commands, `${line}nmap -sT -Pn -p- --max-rate 100 127.0.0.1\n`);
    const masterStateDir = join(dir, 'master');
    let brokerUrl: string;
    ({ master, brokerUrl } = await startLoopbackMaster({
      commands,
      stateDir: masterStateDir,
      influx: { url: influxd.url, db: DATABASE },
      helloInterval: 1,
      extra: ['--job-timeout', '15', '--max-attempts', '1'],
    }));
    for (const id of ['w1', 'w2']) {
      const stateDir = join(dir, id);
      workers.push(new ScanmeshProcess(workerArgs({ brokerUrl, id, stateDir, masterStateDir })));
    }
    await master.waitFor((l) => l.msg === 'job done', 120_000, 'the first scan');
    await master.waitFor((l) => l.msg === 'job failed', 120_000, 'the failing scan');
    listeners.push(await listenOn('127.0.0.1', [opened], { greeting: () => SSHD }));
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
    await eventually(
      async () => [
        await count('SELECT count("job") FROM "scan"'),
        await count('SELECT count("after") FROM "port_change"'),
      ],
      ([scans, changes]) => scans === 3 && changes === 2,
      'three scan rows and two port_change rows',
      30_000,
    );
    // A few more hello rounds of telemetry with w2 INACTIVE.
    await new Promise((res) => setTimeout(res, 3000));
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await master?.kill('SIGTERM');
    for (const l of listeners) await l.close();
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
