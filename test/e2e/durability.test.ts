import { appendFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spooledParts } from '../chaos/disk-state.ts';
import { freePort } from '../harness/free-port.ts';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort, openListeners, type Listeners } from '../harness/listeners.ts';
import { eventually, masterArgs, workerArgs } from '../harness/mesh-processes.ts';
import { ScanmeshProcess, type LogLine } from '../harness/scanmesh-process.ts';

/**
 * Issue 3's promises with real processes that really die: the master SIGKILLed mid-job, a worker
 * SIGKILLed holding results it could not deliver, InfluxDB stopped while results arrive, and a
 * command that times out on every attempt.
 */
describe('nothing lost', () => {
  let influxd: InfluxdHandle;
  let influx: InfluxDB;
  let dir: string;
  let listeners: Listeners;
  let closed: number[];
  const procs: ScanmeshProcess[] = [];

  const spawn = (args: string[]) => {
    const p = new ScanmeshProcess(args);
    procs.push(p);
    return p;
  };
  const master = (name: string, port: number, commands: string, extra: string[] = []) =>
    spawn(
      masterArgs({
        commands,
        stateDir: join(dir, name),
        port,
        influx: { url: influxd.url, db: 'durability' },
        helloInterval: 1,
        extra,
      }),
    );
  const worker = (id: string, port: number, masterDir: string) =>
    spawn(
      workerArgs({
        brokerUrl: `mqtt://127.0.0.1:${port}`,
        id,
        stateDir: join(dir, id),
        masterStateDir: join(dir, masterDir),
        extra: ['--resend-after', '1'],
      }),
    );
  const is = (msg: string, job?: string) => (l: LogLine) =>
    l.msg === msg && (job === undefined || l.job === job);
  const scansOf = async (job: string) =>
    influx.query<{ status: string; worker: string; attempt: number; error: string }>(
      `SELECT "status", "worker", "attempt", "error" FROM "scan" WHERE "job" = '${job}'`,
    );
  /** A scan that keeps nmap busy for a few seconds: one probe every 300 ms over eight ports. */
  const slowLine = (tag: number) =>
    `-sT -Pn --max-retries 0 --scan-delay 300ms -p ${[...listeners.ports, ...closed].join(',')} 127.0.0.${tag}`;

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'durability' });
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-durability-'));
    listeners = await openListeners('127.0.0.1', 3);
    closed = [];
    for (let i = 0; i < 5; i++) closed.push(await closedPort('127.0.0.1'));
  });

  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await listeners?.close();
    await influxd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('survives a master SIGKILL and a worker SIGKILL: done jobs stay done, results made meanwhile are delivered, none repeated', async () => {
    const port = await freePort();
    const commands = join(dir, 'a.txt');
    const quick = `-sT -Pn -p ${listeners.ports.join(',')} 127.0.0.1`;
    await writeFile(commands, `${quick}\n${slowLine(1)}\n`);
    const m1 = master('master-a', port, commands);
    await m1.waitFor(is('embedded broker listening'), 20_000);
    const w1 = worker('wa', port, 'master-a');
    const quickJob = (await m1.waitFor(is('job queued'), 20_000)).job as string;
    const slow = await m1.waitFor((l) => l.msg === 'job queued' && l.job !== quickJob, 20_000);
    const slowJob = slow.job as string;
    await m1.waitFor(is('job done', quickJob), 30_000, 'the quick job');
    await w1.waitFor(is('job received', slowJob), 30_000, 'the worker to get the slow job');

    // The master (and its embedded broker) dies while the worker scans.
    await m1.kill('SIGKILL');
    await w1.waitFor(is('job ended', slowJob), 30_000, 'the worker to finish the slow scan');
    // The worker dies too, holding results nobody acknowledged.
    await w1.kill('SIGKILL');
    const spool = join(dir, 'wa', 'spool.jsonl');
    expect((await stat(spool)).size).toBeGreaterThan(0);

    const m2 = master('master-a', port, commands);
    const restored = await m2.waitFor(is('state restored'), 20_000);
    expect(restored).toMatchObject({ done: 1, running: 1, pending: 0 });
    const w2 = worker('wa', port, 'master-a');
    const starting = await w2.waitFor(is('worker starting'), 20_000);
    expect(starting.spooled as number).toBeGreaterThan(0);
    const done = await m2.waitFor(is('job done', slowJob), 30_000, 'the spooled result');
    expect(done).toMatchObject({ attempt: 1, worker: 'wa' });
    expect(m2.lines.filter((l) => l.msg === 'job started')).toEqual([]);

    for (const job of [quickJob, slowJob]) {
      const rows = await eventually(
        () => scansOf(job),
        (r) => r.length > 0,
        `scan of ${job}`,
      );
      expect(rows.map((r) => [r.status, r.attempt])).toEqual([['completed', 1]]);
    }
    await eventually(
      () => spooledParts(join(dir, 'wa')),
      (n) => n === 0,
      'every spooled part to be acknowledged',
    );
    await m2.kill('SIGTERM');
    await w2.kill('SIGTERM');
  });

  it('keeps results in the outbox while InfluxDB is down and writes them once when it is back', async () => {
    const port = await freePort();
    const commands = join(dir, 'b.txt');
    await writeFile(commands, '');
    const m = master('master-b', port, commands);
    await m.waitFor(is('embedded broker listening'), 20_000);
    worker('wb', port, 'master-b');
    await m.waitFor(is('worker joined'), 20_000);
    await influxd.pause();
    const line = `-sT -Pn -p ${listeners.ports[0]} 127.0.0.3`;
    await appendFile(commands, `${line}\n`);
    const job = (await m.waitFor(is('job queued'), 10_000)).job as string;
    await m.waitFor(is('job done', job), 30_000);
    const waiting = await m.waitFor(
      (l) => l.msg === 'results waiting for InfluxDB' && (l.backlog as number) >= 1,
      20_000,
      'the backlog to be logged',
    );
    expect(waiting.backlog).toBe(1);
    await influxd.resume();
    const rows = await eventually(
      () => scansOf(job),
      (r) => r.length > 0,
      'the delayed write',
    );
    expect(rows.map((r) => r.status)).toEqual(['completed']);
    const ports = await influx.query(
      `SELECT "open" FROM "port" WHERE "job" = '${job}' AND "host" = '127.0.0.3'`,
    );
    expect(ports).toHaveLength(1);
    await m.kill('SIGTERM');
  });

  it('marks a command that times out on every attempt as failed with the reason, without blocking the queue', async () => {
    const port = await freePort();
    const commands = join(dir, 'c.txt');
    const poison = `-sT -Pn --max-retries 0 --scan-delay 1s -p ${closed.join(',')} 127.0.0.4`;
    const healthy = `-sT -Pn -p ${listeners.ports[1]} 127.0.0.4`;
    await writeFile(commands, `${poison}\n${healthy}\n`);
    const m = master('master-c', port, commands, ['--job-timeout', '2', '--max-attempts', '2']);
    await m.waitFor(is('embedded broker listening'), 20_000);
    worker('wc', port, 'master-c');
    const poisonJob = (await m.waitFor(is('job queued'), 10_000)).job as string;
    const healthyJob = (
      await m.waitFor((l) => l.msg === 'job queued' && l.job !== poisonJob, 10_000)
    ).job as string;
    await m.waitFor(is('job done', healthyJob), 30_000, 'the healthy job');
    const failed = await m.waitFor(is('job failed', poisonJob), 40_000, 'the poison job to fail');
    expect(failed.reason).toMatch(/gave up after 2 attempts: timeout/);
    const rows = await eventually(
      () => scansOf(poisonJob),
      (r) => r.length >= 2,
      'two timeout rows',
    );
    expect(rows.map((r) => [r.status, r.attempt])).toEqual([
      ['timeout', 1],
      ['timeout', 2],
    ]);
    expect(rows[0]?.error).toMatch(/did not finish within 2000 ms/);
    await m.kill('SIGTERM');
  });
});
