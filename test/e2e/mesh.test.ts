import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort, openListeners, type Listeners } from '../harness/listeners.ts';
import { eventually, startLoopbackMaster, workerArgs } from '../harness/mesh-processes.ts';
import { ScanmeshProcess, type LogLine } from '../harness/scanmesh-process.ts';

/**
 * The whole mesh with no fakes: `scanmesh master` with its embedded broker on a free port, two
 * `scanmesh worker` processes, real nmap scanning listeners this test opened on 127.0.0.1 and
 * 127.0.0.2, and a private influxd.
 */
describe('the mesh, end to end', () => {
  let influxd: InfluxdHandle;
  let influx: InfluxDB;
  let dir: string;
  let commands: string;
  let master: ScanmeshProcess;
  const workers = new Map<string, ScanmeshProcess>();
  let brokerUrl: string;
  let onA: Listeners;
  let onB: Listeners;
  let closedA: number;
  let closedB: number;

  const startWorker = (id: string) => {
    // Pinned to the key the master wrote before its broker started listening.
    const masterStateDir = join(dir, 'master');
    const w = new ScanmeshProcess(
      workerArgs({ brokerUrl, id, stateDir: join(dir, id), masterStateDir }),
    );
    workers.set(id, w);
    return w;
  };

  const jobDone = (job: string) => (l: LogLine) => l.msg === 'job done' && l.job === job;
  const queued = (command: string) => (l: LogLine) =>
    l.msg === 'job queued' && l.command === command;

  async function scanRows(): Promise<{ job: string; status: string; worker: string }[]> {
    return influx.query('SELECT "job", "status", "worker" FROM "scan"');
  }

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'e2e' });
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-e2e-'));
    onA = await openListeners('127.0.0.1', 3);
    onB = await openListeners('127.0.0.2', 2);
    closedA = await closedPort('127.0.0.1');
    closedB = await closedPort('127.0.0.2');
    commands = join(dir, 'commands.txt');
    await writeFile(
      commands,
      [
        '# two hosts, each with its own listeners',
        `nmap -sT -Pn -p ${[...onA.ports, closedA].join(',')} 127.0.0.1`,
        '',
        `-sT -Pn -p ${[...onB.ports, closedB].join(',')} 127.0.0.2`,
        `nmap -sT -Pn -p ${onA.ports[0]},${onB.ports[0]} 127.0.0.1 127.0.0.2`,
      ].join('\n') + '\n',
    );
    ({ master, brokerUrl } = await startLoopbackMaster({
      commands,
      stateDir: join(dir, 'master'),
      influx: { url: influxd.url, db: 'e2e' },
      helloInterval: 1,
    }));
    startWorker('w1');
    startWorker('w2');
  });

  afterAll(async () => {
    for (const w of workers.values()) await w.kill('SIGKILL');
    await master?.kill('SIGTERM');
    await onA?.close();
    await onB?.close();
    await influxd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scans every command once and writes exactly the opened ports, tagged with their worker', async () => {
    await master.waitFor((l) => l.msg === 'progress' && l.done === 3 && l.total === 3, 60_000);
    const scans = await eventually(scanRows, (r) => r.length >= 3, 'three scan rows');
    expect(scans.map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
    expect(new Set(scans.map((s) => s.job)).size).toBe(3);
    const workerOfJob = new Map(scans.map((s) => [s.job, s.worker]));
    expect([...workerOfJob.values()].every((w) => w === 'w1' || w === 'w2')).toBe(true);

    const open = await influx.query<{ host: string; port: string; worker: string; job: string }>(
      'SELECT "host", "port", "worker", "job" FROM "port" WHERE "open" = 1',
    );
    const seen = open.map((r) => `${r.host}:${r.port}`).sort();
    const expected = [
      ...onA.ports.map((p) => `127.0.0.1:${p}`),
      ...onB.ports.map((p) => `127.0.0.2:${p}`),
      `127.0.0.1:${onA.ports[0]}`,
      `127.0.0.2:${onB.ports[0]}`,
    ].sort();
    expect(seen).toEqual(expected);
    for (const row of open) expect(row.worker).toBe(workerOfJob.get(row.job));

    const closed = await influx.query<{ host: string; port: string }>(
      `SELECT "host", "port", "open" FROM "port" WHERE "state" = 'closed'`,
    );
    // The third command probes each host's first listener port on the other host, where it is closed.
    expect(closed.map((r) => `${r.host}:${r.port}`).sort()).toEqual(
      [
        `127.0.0.1:${closedA}`,
        `127.0.0.2:${closedB}`,
        `127.0.0.1:${onB.ports[0]}`,
        `127.0.0.2:${onA.ports[0]}`,
      ].sort(),
    );
  });

  it('picks up a line appended to the commands file without a restart', async () => {
    const line = `-sT -Pn -p ${onB.ports[1]} 127.0.0.2`;
    await appendFile(commands, `${line}\n`);
    const q = await master.waitFor(queued(line), 10_000, 'the appended line to be queued');
    await master.waitFor(jobDone(q.job as string), 30_000, 'the appended job to finish');
    const scans = await eventually(
      scanRows,
      (r) => r.some((s) => s.job === q.job),
      'the appended scan in InfluxDB',
    );
    expect(scans.filter((s) => s.job === q.job).map((s) => s.status)).toEqual(['completed']);
  });

  it('a worker killed with SIGKILL mid-scan: its job is done by the other and lands once', async () => {
    // Slow on purpose: one probe every 400 ms over ten ports keeps nmap busy for seconds.
    const slowPorts = [
      ...onA.ports,
      closedA,
      ...Array.from({ length: 6 }, (_, i) => closedA + 1 + i),
    ];
    const line = `-sT -Pn --scan-delay 400ms --max-retries 0 -p ${slowPorts.join(',')} 127.0.0.1`;
    await appendFile(commands, `${line}\n`);
    const q = await master.waitFor(queued(line), 10_000, 'the slow line to be queued');
    const started = await master.waitFor(
      (l) => l.msg === 'job started' && l.job === q.job,
      20_000,
      'the slow job to start',
    );
    const victim = started.worker as string;
    const survivor = victim === 'w1' ? 'w2' : 'w1';
    await new Promise((r) => setTimeout(r, 1000));
    await workers.get(victim)!.kill('SIGKILL');

    const done = await master.waitFor(jobDone(q.job as string), 60_000, 'the slow job to finish');
    expect(done.worker).toBe(survivor);
    expect(done.attempt).toBe(2);
    const scans = await eventually(
      scanRows,
      (r) => r.some((s) => s.job === q.job),
      'the slow scan in InfluxDB',
    );
    expect(scans.filter((s) => s.job === q.job)).toEqual([
      expect.objectContaining({ status: 'completed', worker: survivor }),
    ]);
    const ports = await influx.query<{ port: string; worker: string }>(
      `SELECT "port", "worker", "state", "open" FROM "port" WHERE "job" = '${q.job as string}'`,
    );
    expect(ports.map((p) => Number(p.port)).sort((a, b) => a - b)).toEqual(
      [...slowPorts].sort((a, b) => a - b),
    );
    expect(new Set(ports.map((p) => p.worker))).toEqual(new Set([survivor]));
  });
});
