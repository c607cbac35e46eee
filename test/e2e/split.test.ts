import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/broker/embedded.ts';
import type { RunningMaster } from '../../src/master/master.ts';
import type { HostResult } from '../../src/nmap/result.ts';
import type { AttemptRecord } from '../../src/storage/attempt.ts';
import type { RunningWorker } from '../../src/worker/worker.ts';
import { compileFakeNmap } from '../harness/fake-nmap-compiled.ts';
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

/**
 * `@split 20` over 20 workers, with the chaos suite's fake nmap (no packets leave the process
 * tree) sleeping seconds per job so that the blocks visibly run side by side. Nothing here
 * measures speed: parallelism is read from the structure of the stored attempts — which worker
 * ran each block and whether their [startedAt, finishedAt] intervals share an instant — so a
 * loaded machine makes the test slower, never wrong.
 */
const WORKERS = 20;
/** 32 loopback addresses: 20 blocks of one or two, written back as /31s and single addresses. */
const TARGETS = '127.0.0.0/27';
const ARGS = `-sT -p 1 ${TARGETS}`;
/**
 * The fake's per-scan sleep (jittered to 0.5-1.5x). It only has to outlast handing out the 20
 * blocks, which takes milliseconds; seconds leave room for a machine busy with other tests.
 */
const FAKE_DELAY_MS = 8000;

interface Stored {
  record: AttemptRecord;
  hosts: HostResult[];
}

describe('@split over 20 workers', () => {
  const keys = generateKeyPairSync('ed25519');
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let master: RunningMaster;
  let masterLog: MemoryLog;
  let commands: string;
  const workers: RunningWorker[] = [];

  const logged = (msg: string) => masterLog.records.filter((r) => r.msg === msg);
  const stateDir = () => join(dir.path, 'master');

  /** Every ended attempt the master filed, read from disk the way an operator would. */
  async function storedResults(): Promise<Stored[]> {
    const dirPath = join(stateDir(), 'results');
    const names = (await readdir(dirPath)).filter((n) => n.endsWith('.json'));
    return Promise.all(
      names.map(async (n) => JSON.parse(await readFile(join(dirPath, n), 'utf8')) as Stored),
    );
  }

  /** Open ports per host address, as "addr:port,port", sorted: what a scan found. */
  const findings = (results: Stored[]) =>
    results
      .flatMap((r) => r.hosts)
      .map((h) => `${h.address}:${h.ports.filter((p) => p.state === 'open').map((p) => p.port)}`)
      .sort();

  const allAddresses = Array.from({ length: 32 }, (_, i) => `127.0.0.${i}`).sort();

  beforeAll(async () => {
    dir = await tempDir('split');
    // A wrapper so only these workers' nmap sleeps, without touching this process's environment.
    const fake = await compileFakeNmap(dir.path);
    const nmap = join(dir.path, 'slow-fake-nmap');
    await writeFile(
      nmap,
      `#!/bin/sh\nSCANMESH_FAKE_DELAY_MS=${FAKE_DELAY_MS} exec '${fake}' "$@"\n`,
      {
        mode: 0o755,
      },
    );
    broker = await loopbackBroker();
    commands = join(dir.path, 'commands.txt');
    await writeFile(commands, '');
    masterLog = memoryLog('info');
    master = await testMaster({
      broker,
      stateDir: stateDir(),
      commandsPath: commands,
      signingKey: keys.privateKey,
      logger: masterLog.logger,
    });
    await master.ready;
    for (let i = 1; i <= WORKERS; i++) {
      const id = `w${String(i).padStart(2, '0')}`;
      workers.push(
        await testWorker({
          id,
          brokerPort: broker.port,
          stateDir: join(dir.path, id),
          masterKey: keys.publicKey,
          nmapPath: nmap,
          logger: memoryLog('warn').logger,
          // One scan at a time: a worker with a free slot would take a second block.
          slots: 1,
        }),
      );
    }
    // The line is written only once all 20 are known, so every block finds a free worker.
    await until(() => logged('worker joined').length === WORKERS, 'all workers to join');
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await master?.stop();
    await broker?.close();
    // Retries: the master's delta stage may still be filing a comparison after stop() resolves.
    if (dir) await rm(dir.path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('runs the 20 blocks at once, one per worker, and merges them under the parent', async () => {
    await writeFile(commands, `@split ${WORKERS} nmap ${ARGS}\n`);
    await until(() => logged('split job ended').length === 1, 'the split job to end', 60_000);
    const ended = logged('split job ended')[0] as LogRecord;
    expect(ended).toMatchObject({ done: WORKERS, failed: 0, blocks: WORKERS });
    const parent = ended.parent as string;

    // Progress is reported per parent, one block at a time, up to the end.
    const progress = logged('split progress').filter((r) => r.parent === parent);
    expect(progress.map((r) => r.done)).toEqual(
      Array.from({ length: WORKERS - 1 }, (_, i) => i + 1),
    );

    // Every child job is done, and each ran exactly once.
    const children = logged('job done').filter((r) => String(r.job).startsWith(`${parent}.`));
    expect(children.map((r) => r.job).sort()).toEqual(
      Array.from({ length: WORKERS }, (_, i) => `${parent}.${i + 1}`).sort(),
    );

    const blocks = (await storedResults()).filter((r) => r.record.job.startsWith(`${parent}.`));
    expect(blocks).toHaveLength(WORKERS);
    expect(blocks.every((b) => b.record.status === 'completed' && b.record.attempt === 1)).toBe(
      true,
    );
    // One block per worker: all 20 workers took part.
    expect(new Set(blocks.map((b) => b.record.worker)).size).toBe(WORKERS);
    // All 20 were scanning at one instant: the latest start precedes the earliest finish.
    const lastStart = Math.max(...blocks.map((b) => b.record.startedAt));
    const firstFinish = Math.min(...blocks.map((b) => b.record.finishedAt));
    expect(lastStart).toBeLessThan(firstFinish);
    // The blocks cover the parent's targets exactly: each address once, none lost or doubled.
    const addresses = blocks.flatMap((b) => b.hosts.map((h) => h.address));
    expect(addresses.sort()).toEqual(allAddresses);
    expect(blocks.every((b) => b.record.hostCount === b.hosts.length)).toBe(true);
  });

  it('runs the same command unsplit as one job on one worker, with the same findings', async () => {
    await writeFile(commands, `@split ${WORKERS} nmap ${ARGS}\nnmap ${ARGS}\n`);
    const queued = () => logged('job queued').filter((r) => r.command === ARGS);
    await until(() => queued().length === 1, 'the unsplit line to be queued');
    const job = queued()[0]!.job as string;
    await until(() => logged('job done').some((r) => r.job === job), 'the unsplit job', 60_000);

    const results = await storedResults();
    const whole = results.filter((r) => r.record.job === job);
    expect(whole).toHaveLength(1);
    expect(whole[0]!.record).toMatchObject({ status: 'completed', attempt: 1 });
    expect(whole[0]!.hosts.map((h) => h.address).sort()).toEqual(allAddresses);
    // The split run found exactly what the unsplit one did, host by host.
    const parent = logged('split job ended')[0]!.parent as string;
    const blocks = results.filter((r) => r.record.job.startsWith(`${parent}.`));
    expect(findings(blocks)).toEqual(findings(whole));
    // The split line, still in the file, was recognised and not run again.
    expect(blocks).toHaveLength(WORKERS);
  });
});
