import { generateKeyPairSync } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import type { EmbeddedBroker } from '../../../src/broker/embedded.ts';
import { systemClock } from '../../../src/clock.ts';
import type { Effect } from '../../../src/master/core/types.ts';
import { startMaster, type RunningMaster } from '../../../src/master/master.ts';
import { DEFAULT_POLICY } from '../../../src/nmap/policy.ts';
import { createInfluxWriter } from '../../../src/storage/influx-writer.ts';
import { loopbackBroker } from '../../harness/in-process.ts';
import { nowMs, sleep, waitUntil } from './stats.ts';

export const TOPIC_ROOT = 'scanmesh/v1/';

/** An anonymous embedded broker on 127.0.0.1, built by the project's own code (TCP_NODELAY). */
export { loopbackBroker };

export interface MeshOptions {
  /** Holds the master's state dir, commands file and public key. */
  dir: string;
  /** Results go to this InfluxDB as in production; null files them locally only. */
  influx: { url: string; database: string } | null;
  helloIntervalMs?: number;
  /** How often the master looks at commands.txt: short, so feeding jobs adds little latency. */
  commandsPollMs?: number;
  jobTimeoutS?: number;
  /** Attach to this broker (left running on stop) instead of starting one. */
  broker?: EmbeddedBroker;
}

/** Called after every step of the master's core with the method name and the effects it returned. */
export type StepHook = (method: string, effects: readonly Effect[], now: number) => void;

export interface BenchMesh {
  readonly broker: EmbeddedBroker;
  readonly master: RunningMaster;
  readonly commandsPath: string;
  /** master.pub, for workers pinned to the master's key (jobs are signed, as in production). */
  readonly masterPubPath: string;
  /** `job#attempt` → when (nowMs) the core decided to hand it out. */
  readonly assigned: Map<string, number>;
  /** `job#attempt` → when (nowMs) the master handed its JOB to the broker client. */
  readonly sent: Map<string, number>;
  /** Job id → when (nowMs) its completed result was filed (results file and journal record). */
  readonly finished: Map<string, number>;
  /** Job id → when (nowMs) the master's core took in the end part of its attempt 1. */
  readonly endAt: Map<string, number>;
  /**
   * How long each results file took to write (`store.writeResult`; `store.finish`, file and
   * journal record, in masters that have no separate file step), ms.
   */
  readonly fileMs: number[];
  /** Which of the two was timed, for the log. */
  readonly fileMethod: string;
  /** Failed attempts and warnings the master logged: a figure that sees any says so. */
  readonly problems: string[];
  readonly hooks: StepHook[];
  addCommands(lines: readonly string[]): Promise<void>;
  waitFinished(count: number, timeoutMs: number): Promise<void>;
  /** Waits until the master's background work on filed results (InfluxDB, deltas) is done. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded broker and a real master attached to it in-process, as `scanmesh master` runs
 * them: signed jobs, durable journal, results to InfluxDB. The core's steps are observed from
 * outside (its methods wrapped on the instance) so figures can time an assignment without
 * touching src/.
 */
export async function startMesh(o: MeshOptions): Promise<BenchMesh> {
  const stateDir = join(o.dir, 'master');
  await mkdir(stateDir, { recursive: true });
  const commandsPath = join(o.dir, 'commands.txt');
  await writeFile(commandsPath, '');
  const keys = generateKeyPairSync('ed25519');
  const masterPubPath = join(o.dir, 'master.pub');
  await writeFile(masterPubPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));

  const problems: string[] = [];
  // The master logs at info as in production; the lines are serialised, then dropped.
  const sink = {
    write(line: string) {
      if (problems.length < 50 && /"level":(40|50|60)/.test(line)) {
        problems.push(line.trim().slice(0, 300));
      }
    },
  };
  const assigned = new Map<string, number>();
  const sent = new Map<string, number>();
  const finished = new Map<string, number>();
  const endAt = new Map<string, number>();
  const hooks: StepHook[] = [];
  const broker = o.broker ?? (await loopbackBroker());
  const master = await startMaster({
    masterId: 'master',
    topicRoot: TOPIC_ROOT,
    broker: { local: broker },
    commandsPath,
    commandsPollMs: o.commandsPollMs ?? 10,
    stateDir,
    helloIntervalMs: o.helloIntervalMs ?? 5000,
    jobTimeoutS: o.jobTimeoutS ?? 300,
    maxAttempts: 3,
    policy: DEFAULT_POLICY,
    influx: o.influx
      ? createInfluxWriter({ ...o.influx, logger: pino({ level: 'silent' }) })
      : null,
    clock: systemClock,
    logger: pino({ level: 'info' }, sink),
    onFatal: (err) => problems.push(`fatal: ${String(err)}`),
    onFinish: (record) => {
      if (record.status === 'completed') finished.set(record.job, nowMs());
      else
        problems.push(`attempt ${record.job}#${record.attempt} ${record.status}: ${record.error}`);
    },
    signingKey: keys.privateKey,
    onPublish: (out) => {
      if (out.channel === 'jobs' && out.message.kind === 'JOB') {
        sent.set(`${out.message.job}#${out.message.attempt}`, nowMs());
      }
    },
  });
  observeCore(master, (method, effects) => {
    const now = nowMs();
    for (const e of effects) {
      if (e.type === 'publish' && e.out.channel === 'jobs' && e.out.message.kind === 'JOB') {
        assigned.set(`${e.out.message.job}#${e.out.message.attempt}`, now);
      }
      if (e.type === 'persist' && e.record.t === 'end' && e.record.attempt === 1) {
        endAt.set(e.record.job, now);
      }
    }
    for (const h of hooks) h(method, effects, now);
  });
  const fileMs: number[] = [];
  const store = master.store as unknown as Record<string, unknown>;
  const fileMethod = typeof store.writeResult === 'function' ? 'writeResult' : 'finish';
  const write = (store[fileMethod] as (...a: unknown[]) => Promise<void>).bind(master.store);
  store[fileMethod] = async (...args: unknown[]) => {
    const started = nowMs();
    await write(...args);
    fileMs.push(nowMs() - started);
  };
  await master.ready;

  return {
    broker,
    master,
    commandsPath,
    masterPubPath,
    assigned,
    sent,
    finished,
    endAt,
    fileMs,
    fileMethod: `store.${fileMethod}`,
    problems,
    hooks,
    addCommands: (lines) => appendFile(commandsPath, lines.map((l) => `${l}\n`).join('')),
    waitFinished: (count, timeoutMs) =>
      waitUntil(
        () => finished.size >= count,
        () => `${count} jobs to finish (${finished.size} so far; ${problems.slice(-1).join('')})`,
        timeoutMs,
      ),
    async settle() {
      // Deltas are a newer stage of the master; looked up loosely so the bench outlives changes.
      const stages = master as unknown as { deltas?: { backlog?: number } };
      await waitUntil(
        () => (master.outbox?.backlog ?? 0) === 0 && (stages.deltas?.backlog ?? 0) === 0,
        'the master to write filed results out',
        30_000,
      );
      await sleep(10); // the last of those writes was issued, not yet durable
    },
    async stop() {
      await master.stop();
      if (!o.broker) await broker.close();
    },
  };
}

/**
 * Wraps every method of the master's core that returns effects, on this instance only: the shell
 * calls them through the instance, so the hook sees each step as the shell does.
 */
function observeCore(
  master: RunningMaster,
  onStep: (method: string, effects: readonly Effect[]) => void,
): void {
  const core = master.core as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(master.core) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const original: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
    if (name === 'constructor' || typeof original !== 'function') continue;
    core[name] = (...args: unknown[]) => {
      const out: unknown = (original as (...a: unknown[]) => unknown).apply(master.core, args);
      if (Array.isArray(out)) onStep(name, out as Effect[]);
      return out;
    };
  }
}

/** Elapsed ms from the first assignment to the last filed result of these jobs. */
export function makespan(mesh: BenchMesh): number {
  const starts = [...mesh.assigned.values()];
  const ends = [...mesh.finished.values()];
  return Math.max(...ends) - Math.min(...starts);
}
