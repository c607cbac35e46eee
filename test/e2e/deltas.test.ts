import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort, listenOn, type Listeners } from '../harness/listeners.ts';
import { eventually, startLoopbackMaster, workerArgs } from '../harness/mesh-processes.ts';
import { ScanmeshProcess, type LogLine } from '../harness/scanmesh-process.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook-receiver.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

interface ChangeRow {
  host: string;
  port: string;
  protocol: string;
  change: string;
  before: string;
  after: string;
  job: string;
  previous_job: string;
  noisy: number;
}

/**
 * Deltas end to end, nothing faked: `scanmesh master` with a private influxd and a webhook
 * receiver, one `scanmesh worker`, real nmap against 127.0.0.1. Between two runs of the same
 * command a listener opens; exactly that change must reach InfluxDB, the webhook and `diff`.
 */
describe('deltas, end to end', () => {
  let influxd: InfluxdHandle;
  let influx: InfluxDB;
  let hook: WebhookReceiver;
  let dir: string;
  let commands: string;
  let master: ScanmeshProcess;
  let worker: ScanmeshProcess;
  const servers: Listeners[] = [];

  const changesLogged = (job: string) => (l: LogLine) =>
    (l.msg === 'job changes' || l.msg === 'baseline: first results') && l.job === job;

  async function changeRows(where: string): Promise<ChangeRow[]> {
    return influx.query(
      `SELECT "host", "port", "protocol", "change", "before", "after", "job", "previous_job", "noisy" FROM "port_change" WHERE ${where}`,
    );
  }

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'deltas' });
    hook = await startWebhookReceiver();
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-deltas-'));
    commands = join(dir, 'commands.txt');
    await writeFile(commands, '');
    let brokerUrl: string;
    ({ master, brokerUrl } = await startLoopbackMaster({
      commands,
      stateDir: join(dir, 'master'),
      influx: { url: influxd.url, db: 'deltas' },
      helloInterval: 1,
      extra: ['--webhook', hook.url],
    }));
    worker = new ScanmeshProcess(
      workerArgs({
        brokerUrl,
        id: 'w1',
        stateDir: join(dir, 'w1'),
        masterStateDir: join(dir, 'master'),
      }),
    );
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await master?.kill('SIGTERM');
    for (const s of servers) await s.close();
    await hook?.close();
    await influxd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('two runs of one command with a listener opened between: one port-opened, everywhere', async () => {
    const [kept, opened] = [await closedPort('127.0.0.1'), await closedPort('127.0.0.1')];
    servers.push(await listenOn('127.0.0.1', [kept!]));
    const line = `nmap -sT -Pn -p ${kept},${opened} 127.0.0.1\n`;
    await appendFile(commands, line);
    const first = await master.waitFor((l) => l.msg === 'job queued', 30_000);
    await master.waitFor(changesLogged(String(first.job)), 60_000, 'first run compared');

    servers.push(await listenOn('127.0.0.1', [opened!]));
    await appendFile(commands, line);
    const second = await master.waitFor(
      (l) => l.msg === 'job queued' && l.job !== first.job,
      30_000,
    );
    const job2 = String(second.job);
    await master.waitFor(changesLogged(job2), 60_000, 'second run compared');

    const rows = await eventually(
      () => changeRows(`"host" = '127.0.0.1'`),
      (r) => r.length >= 2,
      'two port_change rows',
    );
    expect(
      rows.map(({ port, protocol, change, job, previous_job }) => ({
        port,
        protocol,
        change,
        job,
        previous_job,
      })),
    ).toEqual([
      { port: '-', protocol: '-', change: 'baseline', job: first.job, previous_job: '' },
      {
        port: String(opened),
        protocol: 'tcp',
        change: 'port-opened',
        job: job2,
        previous_job: first.job,
      },
    ]);
    // The port is free at random; nmap names a closed one from its services table, where some
    // ports are listed as "unknown": "closed" or "closed <name>".
    expect(rows[1]).toMatchObject({ before: expect.stringMatching(/^closed( |$)/), noisy: 0 });
    expect(rows[1]?.after).toMatch(/^open/);

    const bodies = await eventually(
      async () => hook.received.map((r) => r.body as { job: string; changes: ChangeRow[] }),
      (b) => b.some((x) => x.job === job2),
      'the webhook for the second run',
    );
    const delivered = bodies.find((b) => b.job === job2);
    expect(delivered?.changes).toEqual([
      expect.objectContaining({
        host: '127.0.0.1',
        port: opened,
        change: 'port-opened',
        previousJob: first.job,
      }),
    ]);
    expect(
      hook.received.find((r) => (r.body as { job: string }).job === job2)?.headers[
        'x-scanmesh-delivery'
      ],
    ).toBe(`${job2}~1`);

    // The same change, read from the master's store by a person.
    const diff = await promisify(execFile)(process.execPath, [
      BIN,
      'diff',
      job2,
      '--state-dir',
      join(dir, 'master'),
    ]).catch((err: { code: number; stdout: string }) => err);
    expect('code' in diff ? diff.code : 0).toBe(1);
    expect(diff.stdout).toContain(`+${opened}/tcp open`);
  });

  it('a recurring line runs again by itself, and its second run reports what changed', async () => {
    const port = await closedPort('127.0.0.1');
    await appendFile(commands, `@every 2s nmap -sT -Pn -p ${port} 127.0.0.1\n`);
    const added = await master.waitFor((l) => l.msg === 'recurring line added', 30_000);
    const lineId = String(added.line);
    // Run 1 has nothing to report: 127.0.0.1's previous result (the test above) did not probe
    // this port, and deltas are per host over the ports both scans probed.
    await master.waitFor((l) => l.msg === 'job done' && l.job === `${lineId}-r1`, 30_000);
    servers.push(await listenOn('127.0.0.1', [port]));
    const changed = await master.waitFor(
      (l) => l.msg === 'job changes' && String(l.job).startsWith(`${lineId}-r`),
      30_000,
      'a later run compared',
    );
    const k = Number(String(changed.job).slice(`${lineId}-r`.length));
    expect(k).toBeGreaterThanOrEqual(2);
    expect(changed).toMatchObject({ changes: 1, noisy: 0 });
    const started = master.lines.filter(
      (l) => l.msg === 'recurring run started' && l.line === lineId,
    );
    expect(started.slice(0, k).map((l) => l.run)).toEqual(
      Array.from({ length: k }, (_, i) => i + 1),
    );
    expect(typeof started[0]?.next).toBe('string');
    const rows = await eventually(
      () => changeRows(`"job" = '${lineId}-r${k}'`),
      (r) => r.length >= 1,
      'the run in port_change',
    );
    expect([...rows]).toEqual([
      expect.objectContaining({
        port: String(port),
        change: 'port-opened',
        previous_job: `${lineId}-r${k - 1}`,
      }),
    ]);
  });
});
