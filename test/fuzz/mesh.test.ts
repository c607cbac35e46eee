import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/broker/embedded.ts';
import { connect, type TestClient } from '../../src/broker/testkit.ts';
import { isScanmeshError } from '../../src/errors.ts';
import type { RunningMaster } from '../../src/master/master.ts';
import type { HostResult } from '../../src/nmap/result.ts';
import { decode, type MessageKind } from '../../src/protocol/codec.ts';
import { createTopics } from '../../src/protocol/topics.ts';
import { assertSigned } from '../../src/security/job-signature.ts';
import type { RunningWorker } from '../../src/worker/worker.ts';
import { openListeners, type Listeners } from '../harness/listeners.ts';
import {
  loopbackBroker,
  memoryLog,
  tempDir,
  testMaster,
  testWorker,
  until,
  type LogRecord,
  type MemoryLog,
} from '../harness/in-process.ts';
import { nextCase, type CaseContext, type FuzzCase, type Target } from './cases.ts';
import { fuzzSeed, Prng } from './prng.ts';

/**
 * Tens of thousands of malformed, mutated, forged and oversized payloads on every topic the
 * master and a worker listen on, through a real broker, with both running in this process. Then:
 * every payload was dropped and logged with the expected code, both still work (a real nmap scan
 * of a listener we opened completes end to end), their state did not move, and no prototype was
 * polluted. FUZZ_SEED replays a run; FUZZ_PAYLOADS scales it.
 */
const SEED = fuzzSeed(20_261_121);
const TOTAL = Number(process.env.FUZZ_PAYLOADS ?? 24_000);
/** QoS 0 in bursts, each drained (all its rejections logged) before the next is sent. */
const BURST = 500;
const WORKER = 'w1';
const topics = createTopics('scanmesh/v1/');

const ACCEPTS: Record<string, MessageKind[]> = {
  hello: ['CL_HELLO'],
  bye: ['CL_BYE'],
  data: ['DATA'],
  jobs: ['JOB', 'CANCEL'],
  ack: ['DATA_ACK'],
};

/**
 * Checks a generated case against the codec before it is sent, so a generator bug (a "mutated"
 * payload that is in fact valid) fails here with its recipe instead of running a job or being
 * miscounted. It does not replace the mesh's verdict, which is what the test asserts.
 */
function expectedOutcomeHolds(c: FuzzCase, masterPublicKey: KeyObject): boolean {
  if (c.topic === topics.sHello()) return refusedBy(c, ['S_HELLO']);
  const where = topics.parseWorker(c.topic);
  if (c.expect === 'SCANMESH_BAD_TOPIC') return where === null;
  if (!where) return false;
  const kinds = ACCEPTS[where.channel]!;
  if (c.expect === 'SCANMESH_BAD_MESSAGE') return refusedBy(c, kinds);
  const msg = decode(c.payload, kinds);
  if (c.expect === 'SCANMESH_IDENTITY_MISMATCH')
    return (msg as { worker: string }).worker !== where.id;
  if (c.expect === 'SCANMESH_BAD_SIGNATURE') {
    try {
      assertSigned(msg as never, masterPublicKey, { topicRoot: topics.root, worker: where.id });
      return false;
    } catch (err) {
      return isScanmeshError(err, 'SCANMESH_BAD_SIGNATURE');
    }
  }
  return false;
}

function refusedBy(c: FuzzCase, kinds: MessageKind[]): boolean {
  try {
    decode(c.payload, kinds);
    return false;
  } catch (err) {
    return isScanmeshError(err, 'SCANMESH_BAD_MESSAGE');
  }
}

/** Counts 'message dropped' lines by code as they arrive, without rescanning the log. */
class DropTally {
  readonly byCode = new Map<string, number>();
  total = 0;
  private seen = 0;
  constructor(private readonly log: MemoryLog) {}
  update(): number {
    for (; this.seen < this.log.records.length; this.seen++) {
      const r = this.log.records[this.seen]!;
      if (r.msg !== 'message dropped') continue;
      this.byCode.set(String(r.code), (this.byCode.get(String(r.code)) ?? 0) + 1);
      this.total++;
    }
    return this.total;
  }
}

const increment = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

describe('fuzzing the master and a worker through a real broker', () => {
  const masterKeys = generateKeyPairSync('ed25519');
  const ctx: CaseContext = {
    worker: WORKER,
    masterKey: masterKeys.privateKey,
    strangerKey: generateKeyPairSync('ed25519').privateKey,
  };
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let listeners: Listeners;
  let broker: EmbeddedBroker;
  let master: RunningMaster;
  let worker: RunningWorker;
  let fuzzer: TestClient;
  let commands: string;
  const masterLog = memoryLog('info');
  const workerLog = memoryLog('info');
  const tally: Record<Target, DropTally> = {
    master: new DropTally(masterLog),
    worker: new DropTally(workerLog),
  };
  const expected: Record<Target, Map<string, number>> = { master: new Map(), worker: new Map() };

  const snapshot = () =>
    structuredClone({
      jobs: master.core.state.jobs,
      workers: master.core.state.workers,
      queue: master.core.state.pending.ids(),
      journalBytes: master.store.journalBytes,
      workerBusy: worker.core.busy,
      workerSpool: worker.core.pending,
    });
  let before: ReturnType<typeof snapshot>;
  const prototypes = () =>
    [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) =>
      Object.getOwnPropertyNames(p).sort(),
    );
  let prototypesBefore: string[][];

  const waitFor = (log: MemoryLog, test: (r: LogRecord) => boolean, what: string, ms = 30_000) =>
    until(() => log.records.some(test), what, ms).then(() => log.records.find(test)!);

  /** Scan one of our listeners through the whole mesh; resolves with the finished job's hosts. */
  async function realScan(port: number): Promise<{ job: string; hosts: HostResult[] }> {
    await appendFile(commands, `nmap -sT -Pn -p ${port} 127.0.0.1\n`);
    const queued = await waitFor(
      masterLog,
      (r) => r.msg === 'job queued' && String(r.command).includes(`-p ${port} `),
      `the scan of port ${port} to be queued`,
    );
    const done = await waitFor(
      masterLog,
      (r) => r.msg === 'job done' && r.job === queued.job,
      `the scan of port ${port} to finish`,
    );
    const file = join(
      dir.path,
      'master',
      'results',
      `${String(done.job)}~${String(done.attempt)}.json`,
    );
    // "job done" is logged only once the result is on disk (effects-runner.ts): read it at once.
    const text = await readFile(file, 'utf8').catch(async (err: unknown) => {
      const files = await readdir(join(dir.path, 'master', 'results')).catch(() => []);
      const tail = masterLog.records.slice(-5).map((x) => JSON.stringify(x));
      throw new Error(`${String(err)}; results: ${files.join(' ')}; log: ${tail.join('\n')}`);
    });
    const stored = JSON.parse(text) as { hosts: HostResult[] };
    return { job: String(done.job), hosts: stored.hosts };
  }

  beforeAll(async () => {
    dir = await tempDir('fuzz');
    listeners = await openListeners('127.0.0.1', 2);
    commands = join(dir.path, 'commands.txt');
    // Empty-ish: a comment and a refused line; real scans are appended by the tests.
    await writeFile(commands, '# fuzz\nnmap -oN out.txt 127.0.0.1\n');
    broker = await loopbackBroker();
    worker = await testWorker({
      id: WORKER,
      brokerPort: broker.port,
      stateDir: join(dir.path, WORKER),
      masterKey: masterKeys.publicKey,
      logger: workerLog.logger,
    });
    master = await testMaster({
      broker,
      stateDir: join(dir.path, 'master'),
      commandsPath: commands,
      signingKey: masterKeys.privateKey,
      logger: masterLog.logger,
      // No hello round during the test, however slow the machine: a round legitimately moves
      // counters and lastSeen, and the state must be comparable before and after the storm.
      helloIntervalMs: 3_600_000,
    });
    await Promise.all([worker.ready, master.ready]);
    fuzzer = await connect({ url: `mqtt://127.0.0.1:${broker.port}` }, { clientId: 'fuzzer' });
    // A finished job in the state before the storm, so "unchanged" covers jobs as well as workers.
    const first = await realScan(listeners.ports[0]!);
    expect(first.hosts[0]?.ports).toContainEqual(
      expect.objectContaining({ port: listeners.ports[0], state: 'open' }),
    );
    // Its comparison with earlier results appends a `compared` record: let it land first.
    await master.deltas.idle();
    before = snapshot();
    prototypesBefore = prototypes();
  });

  afterAll(async () => {
    await fuzzer?.client.endAsync();
    await master?.stop();
    await worker?.stop();
    await broker?.close();
    await listeners?.close();
    await dir?.remove();
  });

  // ~12 s alone on 2 cores; the limit leaves room for a full `npm test` running beside it.
  it(
    `drops every one of ${TOTAL} bad payloads, each logged with its code`,
    { timeout: 120_000 },
    async () => {
      const r = new Prng(SEED);
      const sentByTopic = new Map<string, number>();
      const sentByRecipe = new Map<string, number>();
      let bytes = 0;
      const started = Date.now();
      for (let sent = 0; sent < TOTAL;) {
        const burst = Math.min(BURST, TOTAL - sent);
        for (let i = 0; i < burst; i++, sent++) {
          const c = nextCase(r, ctx);
          if (!expectedOutcomeHolds(c, masterKeys.publicKey)) {
            throw new Error(`generator bug at case ${sent} (seed ${SEED}): ${c.how} on ${c.topic}`);
          }
          fuzzer.client.publish(c.topic, c.payload, { qos: 0 });
          increment(expected[c.target], c.expect);
          increment(sentByTopic, `${c.family} → ${c.target}`);
          increment(sentByRecipe, c.how.startsWith('names ') ? 'identity mismatch' : c.how);
          bytes += typeof c.payload === 'string' ? Buffer.byteLength(c.payload) : c.payload.length;
        }
        const want = (t: Target) => [...expected[t].values()].reduce((a, b) => a + b, 0);
        await until(
          () => tally.master.update() >= want('master') && tally.worker.update() >= want('worker'),
          `burst ending at ${sent} to be logged (seed ${SEED}); master ${tally.master.total}/${want('master')}, worker ${tally.worker.total}/${want('worker')}`,
          20_000,
        );
      }
      // Anything still in flight would show up as an excess count.
      await new Promise((res) => setTimeout(res, 200));
      tally.master.update();
      tally.worker.update();

      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `fuzz seed ${SEED}: ${TOTAL} payloads, ${(bytes / 1e6).toFixed(1)} MB, in ${seconds} s`,
      );
      console.log('payloads sent per topic:');
      for (const [t, n] of [...sentByTopic].sort()) console.log(`  ${String(n).padStart(6)}  ${t}`);
      console.log('payloads by recipe:');
      for (const [h, n] of [...sentByRecipe].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${String(n).padStart(6)}  ${h}`);
      }
      for (const t of ['master', 'worker'] as const) {
        const fmt = (m: Map<string, number>) =>
          [...m]
            .sort()
            .map(([c, n]) => `${c}=${n}`)
            .join(' ') || '(none)';
        console.log(`${t}: expected ${fmt(expected[t])}; logged ${fmt(tally[t].byCode)}`);
      }

      expect(Object.fromEntries(tally.master.byCode)).toEqual(Object.fromEntries(expected.master));
      expect(Object.fromEntries(tally.worker.byCode)).toEqual(Object.fromEntries(expected.worker));
      expect(tally.master.total + tally.worker.total).toBe(TOTAL);
      for (const log of [masterLog, workerLog]) {
        expect(log.records.filter((x) => x.level >= 50)).toEqual([]);
        expect(log.records.filter((x) => x.msg === 'message dropped' && !x.code)).toEqual([]);
      }
    },
  );

  it('left the state as it was, and polluted no prototype', () => {
    expect(snapshot()).toEqual(before);
    expect([...master.core.state.workers.keys()]).toEqual([WORKER]);
    expect(prototypes()).toEqual(prototypesBefore);
    const probe = {} as Record<string, unknown>;
    for (const k of ['polluted', 'toString', 'valueOf']) {
      expect(probe[k]).toBe(Object.prototype[k as keyof object]);
    }
    expect(probe.polluted).toBeUndefined();
    expect(masterLog.records.filter((x) => x.msg === 'worker joined')).toHaveLength(1);
    expect(workerLog.records.filter((x) => x.msg === 'job received')).toHaveLength(1);
  });

  it('still works: a real scan runs end to end after the storm', async () => {
    const port = listeners.ports[1]!;
    const scan = await realScan(port);
    expect(scan.hosts).toHaveLength(1);
    expect(scan.hosts[0]!.ports).toContainEqual(
      expect.objectContaining({ port, protocol: 'tcp', state: 'open' }),
    );
    // The new job aside, jobs are as they were; the worker has one more done and is idle again.
    const after = snapshot();
    after.jobs.delete(scan.job);
    expect(after.jobs).toEqual(before.jobs);
    const w = after.workers.get(WORKER)!;
    const was = before.workers.get(WORKER)!;
    expect({ ...w, lastSeen: 0 }).toEqual({ ...was, jobsDone: was.jobsDone + 1, lastSeen: 0 });
  });
});
