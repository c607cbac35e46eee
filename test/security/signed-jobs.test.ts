import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/broker/embedded.ts';
import { connect, type TestClient } from '../../src/broker/testkit.ts';
import { decode, encode } from '../../src/protocol/codec.ts';
import type { Cancel } from '../../src/protocol/messages/cancel.ts';
import type { Job } from '../../src/protocol/messages/job.ts';
import { sign, verify } from '../../src/security/job-signature.ts';
import type { RunningWorker } from '../../src/worker/worker.ts';
import {
  fakeNmap,
  loopbackBroker,
  memoryLog,
  tempDir,
  testMaster,
  testWorker,
  until,
  type MemoryLog,
} from '../harness/in-process.ts';

/**
 * Workers pinned to the master's key, on a real broker: only JOBs and CANCELs signed by that key
 * for that very worker and mesh get through. Jobs go to a fake nmap that prints a captured report.
 */
describe('signed jobs', () => {
  const root = 'scanmesh/v1/';
  const master = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let nmap: string;
  let wire: TestClient;
  const workers = new Map<string, { worker: RunningWorker; log: MemoryLog }>();

  // Rising, and above what a master of this file stamped before (its clock).
  let stamp = 0;
  const jobFor = (id: string, port = '1'): Job => ({
    kind: 'JOB',
    job: id,
    attempt: 1,
    stamp: (stamp = Math.max(stamp + 1, Date.now())),
    args: ['-sT', '-Pn', '-p', port, '127.0.0.1'],
    timeoutS: 60,
  });
  const signedFor = <M extends Job | Cancel>(m: M, worker: string, key = master.privateKey) =>
    sign(m, key, { topicRoot: root, worker });
  const send = (worker: string, message: Job | Cancel) =>
    wire.client.publishAsync(`${root}workers/${worker}/jobs`, encode(message), { qos: 1 });
  const dataOf = (job: string) =>
    wire.received
      .filter((m) => m.topic.endsWith('/data'))
      .map((m) => ({ worker: m.topic.split('/')[3], msg: decode(m.payload, ['DATA']) }))
      .filter((d) => d.msg.job === job);
  const ended = (job: string) => dataOf(job).find((d) => d.msg.part === 'end');
  const badSignatures = (worker: string, job: string) =>
    workers
      .get(worker)!
      .log.withCode('SCANMESH_BAD_SIGNATURE')
      .filter((r) => String(r.reason).includes(job));
  const received = (worker: string, job: string) =>
    workers.get(worker)!.log.records.filter((r) => r.msg === 'job received' && r.job === job);

  /**
   * A correctly signed job sent after the refused ones, on the same topic: once its result is
   * back, the worker has handled everything sent before it, so "no DATA" is a fact, not a guess.
   */
  const sentinel = async (worker: string, id: string) => {
    await send(worker, signedFor(jobFor(id), worker));
    await until(() => ended(id) !== undefined, `the sentinel ${id} to finish`);
  };

  beforeAll(async () => {
    dir = await tempDir('signed');
    broker = await loopbackBroker();
    nmap = await fakeNmap(dir.path);
    wire = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId: 'wire' });
    await wire.client.subscribeAsync(`${root}workers/+/data`, { qos: 1 });
    for (const id of ['wA', 'wB']) {
      const log = memoryLog();
      const worker = await testWorker({
        id,
        brokerPort: broker.port,
        stateDir: join(dir.path, id),
        masterKey: master.publicKey,
        nmapPath: nmap,
        logger: log.logger,
      });
      await worker.ready;
      workers.set(id, { worker, log });
    }
  });

  afterAll(async () => {
    for (const { worker } of workers.values()) await worker.stop();
    await wire?.client.endAsync();
    await broker?.close();
    await dir?.remove();
  });

  it('runs a job signed by the pinned key, and publishes its results', async () => {
    await send('wA', signedFor(jobFor('j-signed-1'), 'wA'));
    await until(() => ended('j-signed-1') !== undefined, 'the signed job to end');
    const end = ended('j-signed-1')!;
    expect(end.worker).toBe('wA');
    expect(end.msg).toMatchObject({ part: 'end', status: 'completed', seq: 1 });
    expect(dataOf('j-signed-1').filter((d) => d.msg.part === 'host')).toHaveLength(1);
    expect(badSignatures('wA', 'j-signed-1')).toEqual([]);
  });

  it('refuses an unsigned job and one signed by another key: logged, never run', async () => {
    await send('wA', jobFor('j-unsigned-1'));
    await send('wA', signedFor(jobFor('j-forged-1'), 'wA', stranger.privateKey));
    await send('wA', { ...jobFor('j-garbled-1'), sig: 'x'.repeat(88) });
    await sentinel('wA', 'j-sentinel-1');
    for (const job of ['j-unsigned-1', 'j-forged-1', 'j-garbled-1']) {
      expect(badSignatures('wA', job)).toHaveLength(1);
      expect(badSignatures('wA', job)[0]).toMatchObject({ level: 40, msg: 'message dropped' });
      expect(received('wA', job)).toEqual([]);
      expect(dataOf(job)).toEqual([]);
    }
    expect(badSignatures('wA', 'j-unsigned-1')[0]!.reason).toContain('unsigned');
  });

  it('refuses a job signed for worker A and replayed to worker B', async () => {
    const forA = signedFor(jobFor('j-replayed-1'), 'wA');
    await send('wB', forA);
    await sentinel('wB', 'j-sentinel-2');
    expect(badSignatures('wB', 'j-replayed-1')).toHaveLength(1);
    expect(received('wB', 'j-replayed-1')).toEqual([]);
    expect(dataOf('j-replayed-1')).toEqual([]);
  });

  it('refuses a captured JOB replayed after the worker restarted and forgot the attempt', async () => {
    const captured = signedFor(jobFor('j-once-1'), 'wA');
    await send('wA', captured);
    await until(() => ended('j-once-1') !== undefined, 'the job to end');
    // Everything wA sent, acknowledged as a master would: it then holds nothing of the job.
    const parts = wire.received.filter((m) => m.topic === `${root}workers/wA/data`);
    for (const { payload } of parts) {
      const { job, attempt, seq } = decode(payload, ['DATA']);
      const ack = { kind: 'DATA_ACK', job, attempt, seq, outcome: 'stored' } as const;
      await wire.client.publishAsync(`${root}workers/wA/ack`, encode(ack), { qos: 1 });
    }
    const before = workers.get('wA')!;
    await until(() => before.worker.core.pending === 0, 'the parts to be acknowledged');
    await before.worker.stop();
    const log = memoryLog();
    const worker = await testWorker({
      id: 'wA',
      brokerPort: broker.port,
      stateDir: join(dir.path, 'wA'),
      masterKey: master.publicKey,
      nmapPath: nmap,
      logger: log.logger,
    });
    await worker.ready;
    workers.set('wA', { worker, log });
    await send('wA', captured);
    await sentinel('wA', 'j-sentinel-3');
    expect(log.withCode('SCANMESH_STALE_JOB')).toEqual([
      expect.objectContaining({ level: 40, job: 'j-once-1', stamp: captured.stamp }),
    ]);
    expect(received('wA', 'j-once-1')).toEqual([]);
    expect(dataOf('j-once-1').filter((d) => d.msg.part === 'end')).toHaveLength(1);
  });

  it('refuses a forged CANCEL: the scan keeps running until the master cancels it', async () => {
    const { worker } = workers.get('wA')!;
    await send('wA', signedFor(jobFor('j-slow-1', '2'), 'wA'));
    await until(() => received('wA', 'j-slow-1').length === 1, 'the slow job to start');
    const cancel: Cancel = { kind: 'CANCEL', job: 'j-slow-1', attempt: 1, reason: 'forged' };
    await send('wA', cancel);
    await send('wA', signedFor(cancel, 'wA', stranger.privateKey));
    await send('wA', signedFor(cancel, 'wB'));
    await until(() => badSignatures('wA', 'j-slow-1').length === 3, 'three refused cancels');
    expect(worker.core.busy).toBe(1);

    await send('wA', signedFor({ ...cancel, reason: 'job done' }, 'wA'));
    await until(() => worker.core.busy === 0, 'the signed cancel to stop the scan');
    expect(workers.get('wA')!.log.records.some((r) => r.msg === 'job cancelled')).toBe(true);
  });

  it('a master with a signing key signs every JOB for the worker it is sent to', async () => {
    const jobs = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId: 'tap' });
    await jobs.client.subscribeAsync(`${root}workers/+/jobs`, { qos: 1 });
    const commands = join(dir.path, 'commands.txt');
    await writeFile(commands, 'nmap -sT -Pn -p 1 127.0.0.1\n');
    const log = memoryLog();
    const m = await testMaster({
      broker,
      stateDir: join(dir.path, 'master'),
      commandsPath: commands,
      signingKey: master.privateKey,
      logger: log.logger,
    });
    try {
      await until(() => log.records.some((r) => r.msg === 'job done'), 'the master job to finish');
      const sent = jobs.received.map((r) => ({
        worker: r.topic.split('/')[3]!,
        msg: decode(r.payload, ['JOB', 'CANCEL']),
      }));
      expect(sent.filter((s) => s.msg.kind === 'JOB').length).toBeGreaterThan(0);
      for (const s of sent) {
        expect(verify(s.msg, master.publicKey, { topicRoot: root, worker: s.worker })).toBe(true);
      }
    } finally {
      await m.stop();
      await jobs.client.endAsync();
    }
  });

  it('starts only with a key, or with null to accept unsigned jobs explicitly', async () => {
    const log = memoryLog();
    const base = { brokerPort: broker.port, nmapPath: nmap, logger: log.logger };
    await expect(
      testWorker({ ...base, id: 'wNone', stateDir: join(dir.path, 'none'), masterKey: undefined }),
    ).rejects.toMatchObject({ code: 'SCANMESH_BAD_CONFIG' });

    const open = await testWorker({
      ...base,
      id: 'wOpen',
      stateDir: join(dir.path, 'open'),
      masterKey: null,
    });
    try {
      await open.ready;
      expect(log.records.some((r) => r.level === 40 && /NOT checked/.test(r.msg))).toBe(true);
      await send('wOpen', jobFor('j-open-1'));
      await until(() => ended('j-open-1') !== undefined, 'the unsigned job on an open worker');
    } finally {
      await open.stop();
    }
  });
});
