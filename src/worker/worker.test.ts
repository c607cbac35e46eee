import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../broker/embedded.ts';
import { connect, type TestClient } from '../broker/testkit.ts';
import { decode, encode } from '../protocol/codec.ts';
import type { Job } from '../protocol/messages/job.ts';
import {
  fakeNmap,
  loopbackBroker,
  memoryLog,
  tempDir,
  testWorker,
  until,
} from '../../test/harness/in-process.ts';

/**
 * The worker shell on a real broker, fed JOBs by a plain client: every attempt it takes ends with
 * a reason, and a stopping worker takes none.
 */
describe('worker shell', () => {
  const root = 'scanmesh/v1/';
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let wire: TestClient;
  let stamp = 0;
  const job = (id: string, args: string[]): Job => ({
    kind: 'JOB',
    job: id,
    attempt: 1,
    stamp: ++stamp,
    args,
    timeoutS: 60,
  });
  const send = (worker: string, message: Job) =>
    wire.client.publishAsync(`${root}workers/${worker}/jobs`, encode(message), { qos: 1 });
  const endOf = (id: string) =>
    wire.received
      .filter((m) => m.topic.endsWith('/data'))
      .map((m) => decode(m.payload, ['DATA']))
      .find((d) => d.job === id && d.part === 'end');

  beforeAll(async () => {
    dir = await tempDir('worker-shell');
    broker = await loopbackBroker();
    wire = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId: 'wire' });
    await wire.client.subscribeAsync(`${root}workers/+/data`, { qos: 1 });
  });

  afterAll(async () => {
    await wire?.client.endAsync();
    await broker?.close();
    await dir?.remove();
  });

  it('ends an attempt whose target cannot be resolved, with the reason, and frees its slot', async () => {
    // The harness's resolver fails every lookup, as a resolver does for an unknown name.
    const worker = await testWorker({
      id: 'wDns',
      brokerPort: broker.port,
      stateDir: join(dir.path, 'wDns'),
      masterKey: null,
      nmapPath: await fakeNmap(dir.path),
      logger: memoryLog().logger,
      slots: 1,
    });
    try {
      await worker.ready;
      await send('wDns', job('j-dns-1', ['-sT', '-p', '1', 'no-such-host.invalid']));
      await until(() => endOf('j-dns-1') !== undefined, 'the attempt to end');
      expect(endOf('j-dns-1')).toMatchObject({ status: 'failed', code: 'SCANMESH_BAD_COMMAND' });
      expect(worker.core.busy).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('takes no JOB once it is stopping', async () => {
    // An nmap that shrugs off SIGTERM keeps stop() waiting, so the JOB lands while it does.
    const stubborn = join(dir.path, 'stubborn-nmap');
    await writeFile(
      stubborn,
      '#!/bin/bash\ncase " $* " in *" --version "*) echo "Nmap version 7.93"; exit 0;; esac\n' +
        "trap '' TERM\nsleep 2\n",
    );
    await chmod(stubborn, 0o755);
    const log = memoryLog();
    const worker = await testWorker({
      id: 'wStop',
      brokerPort: broker.port,
      stateDir: join(dir.path, 'wStop'),
      masterKey: null,
      nmapPath: stubborn,
      logger: log.logger,
      slots: 2,
    });
    await worker.ready;
    const received = (id: string) =>
      log.records.filter((r) => r.msg === 'job received' && r.job === id);
    await send('wStop', job('j-slow-1', ['-sT', '-p', '1', '127.0.0.1']));
    await until(() => received('j-slow-1').length === 1, 'the first job to start');
    const stopped = worker.stop();
    await send('wStop', job('j-late-1', ['-sT', '-p', '1', '127.0.0.1']));
    await until(
      () => log.records.some((r) => r.msg === 'job not taken: stopping' && r.job === 'j-late-1'),
      'the late JOB to be turned away',
    );
    await stopped;
    expect(received('j-late-1')).toEqual([]);
  });
});
