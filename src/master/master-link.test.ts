import { generateKeyPairSync } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fakeNmap,
  loopbackBroker,
  memoryLog,
  tempDir,
  testMaster,
  testWorker,
  until,
  type MemoryLog,
} from '../../test/harness/in-process.ts';
import { pino } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.ts';
import { connect, type TestClient } from '../broker/testkit.ts';
import { DEFAULT_POLICY } from '../nmap/policy.ts';
import { decode, encode } from '../protocol/codec.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { RunningWorker } from '../worker/worker.ts';
import { parseCommandsFile } from './commands-file.ts';
import { endPart, hello } from './core/testkit.ts';
import type { MasterRecord } from './core/types.ts';
import { readStoredResult } from './result-files.ts';
import type { RunningMaster } from './master.ts';

/**
 * A master on the embedded broker's local link (`{ local: broker }`), with a real worker shell and
 * plain mqtt.js clients on TCP: jobs go out signed at QoS 1, results come back and are filed, a
 * message that names another worker than its topic is dropped, and the status is retained.
 */
describe('master on the local link', () => {
  const root = 'scanmesh/v1/';
  const keys = generateKeyPairSync('ed25519');
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let master: RunningMaster;
  let masterLog: MemoryLog;
  let worker: RunningWorker;
  let commandsPath: string;
  const finished: AttemptRecord[] = [];
  const clients: TestClient[] = [];

  const client = async (clientId: string) => {
    const c = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = await tempDir('master-link');
    broker = await loopbackBroker();
    commandsPath = join(dir.path, 'commands.txt');
    await writeFile(commandsPath, '');
    masterLog = memoryLog('info');
    master = await testMaster({
      broker,
      stateDir: join(dir.path, 'master'),
      commandsPath,
      signingKey: keys.privateKey,
      logger: masterLog.logger,
      helloIntervalMs: 200,
      onFinish: (record) => void finished.push(record),
    });
    await master.ready;
    worker = await testWorker({
      id: 'w1',
      brokerPort: broker.port,
      stateDir: join(dir.path, 'w1'),
      masterKey: keys.publicKey,
      nmapPath: await fakeNmap(dir.path),
      logger: memoryLog().logger,
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.client.endAsync(true)));
    await worker?.stop();
    await master?.stop();
    await broker?.close();
    await dir?.remove();
  });

  it('sends a signed job to a real worker and files what comes back', async () => {
    await until(() => master.core.state.workers.has('w1'), 'w1 to say hello');
    await appendFile(commandsPath, '-sT -Pn -p 1 127.0.0.1\n');
    await until(() => finished.length === 1, 'the job to be filed');
    const record = finished[0]!;
    expect(record).toMatchObject({ worker: 'w1', status: 'completed' });
    const stored = await readStoredResult(join(dir.path, 'master'), record.job, record.attempt);
    expect(stored?.hosts.map((h) => h.address)).toEqual(['127.0.0.1']);
  });

  it('drops a message that names another worker than its topic, and a malformed one', async () => {
    const w2 = await client('scanmesh-worker-w2');
    const forged = encode<'CL_HELLO'>({
      kind: 'CL_HELLO',
      worker: 'w1',
      nmap: '7.93',
      slots: 1,
      running: [],
      held: [],
    });
    await w2.client.publishAsync(`${root}workers/w2/hello`, forged, { qos: 1 });
    await w2.client.publishAsync(`${root}workers/w2/data`, '{"kind":"DATA"}', { qos: 1 });
    await until(() => masterLog.withCode('SCANMESH_BAD_MESSAGE').length === 1, 'the refusal');
    expect(masterLog.withCode('SCANMESH_IDENTITY_MISMATCH')).toHaveLength(1);
    expect(master.core.state.workers.has('w2')).toBe(false);
  });

  it('retains its status for a newcomer', async () => {
    const reader = await client('reader');
    await reader.client.subscribeAsync(`${root}master/status`, { qos: 1 });
    await until(() => reader.received.length > 0, 'the retained status');
    const status = decode(reader.received[0]!.payload, ['S_STATUS']);
    expect(status.master).toBe('master');
    expect(status.workers.map((w) => w.id)).toEqual(['w1']);
  });
});

describe('master restarted from its journal', () => {
  it('sends the JOBs its restore hands out once the link is open, not into the void', async () => {
    const dir = await tempDir('master-restore');
    const broker = await loopbackBroker();
    const wire = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId: 'tap' });
    try {
      await wire.client.subscribeAsync('scanmesh/v1/workers/+/jobs', { qos: 1 });
      const commandsPath = join(dir.path, 'commands.txt');
      const text = 'nmap -sT -p 1 127.0.0.1\nnmap -sT -p 2 127.0.0.1\n';
      await writeFile(commandsPath, text);
      const [j1, j2] = parseCommandsFile(text, DEFAULT_POLICY, 60).entries;
      if (!j1 || !j2) throw new Error('two commands expected');
      // A crash after j1's end part reached the journal, before its attempt was ended: the
      // restore ends it, which frees w1 for j2.
      const journal: MasterRecord[] = [
        { t: 'job', ...j1, seq: 1 },
        { t: 'job', ...j2, seq: 2 },
        { t: 'assign', job: j1.id, attempt: 1, worker: 'w1', deadline: Date.now() + 60_000 },
        { t: 'end', job: j1.id, attempt: 1, worker: 'w1', end: endPart('w1', j1.id, 1, 0) },
      ];
      const stateDir = join(dir.path, 'master');
      await mkdir(stateDir, { recursive: true });
      await writeFile(
        join(stateDir, 'journal.jsonl'),
        journal.map((r) => JSON.stringify(r) + '\n'),
      );
      const master = await testMaster({
        broker,
        stateDir,
        commandsPath,
        signingKey: null,
        logger: memoryLog().logger,
      });
      try {
        await until(() => wire.received.length > 0, 'a JOB on the wire');
        const sent = decode(wire.received[0]!.payload, ['JOB']);
        expect([wire.received[0]!.topic, sent.job]).toEqual(['scanmesh/v1/workers/w1/jobs', j2.id]);
      } finally {
        await master.stop();
      }
    } finally {
      await wire.client.endAsync();
      await broker.close();
      await dir.remove();
    }
  });
});

describe('master on a broker that goes away', () => {
  it('counts no unanswered hello rounds against its workers while it cannot reach the broker', async () => {
    const dir = await tempDir('master-outage');
    let broker = await loopbackBroker();
    const port = broker.port;
    const commandsPath = join(dir.path, 'commands.txt');
    await writeFile(commandsPath, '');
    const log = memoryLog('info');
    const master = await testMaster({
      broker,
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      stateDir: join(dir.path, 'master'),
      commandsPath,
      signingKey: null,
      logger: log.logger,
      helloIntervalMs: 100,
    });
    try {
      await master.ready;
      const w1 = await connect({ url: `mqtt://127.0.0.1:${port}` }, { clientId: 'w1' });
      await w1.client.publishAsync('scanmesh/v1/workers/w1/hello', encode(hello('w1')), {
        qos: 1,
      });
      await until(() => master.core.state.workers.has('w1'), 'the master to know w1');
      await w1.client.endAsync(true);
      await broker.close();
      // Ten hello intervals without a broker: two unanswered rounds would make w1 INACTIVE.
      await until(() => log.records.some((r) => r.msg.startsWith('lost the broker')), 'the loss');
      await new Promise((r) => setTimeout(r, 1000));
      expect(master.core.state.workers.get('w1')?.state).toBe('WAITING');
      broker = await startEmbeddedBroker({
        port,
        host: '127.0.0.1',
        allowAnonymous: true,
        logger: pino({ level: 'silent' }),
      });
      const connects = () =>
        log.records.filter((r) => r.msg === 'connected to broker; discovering workers').length;
      await until(() => connects() === 2, 'the master to reconnect', 15_000);
      expect(master.core.state.workers.get('w1')).toMatchObject({ state: 'WAITING', counter: 1 });
    } finally {
      await master.stop();
      await broker.close();
      await dir.remove();
    }
  });
});
