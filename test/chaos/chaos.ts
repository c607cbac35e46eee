import { realpathSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { compileFakeNmap } from '../harness/fake-nmap-compiled.ts';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import { closedPort, openListeners, type Listeners } from '../harness/listeners.ts';
import { check, readInflux, type InfluxFacts, type Verdict } from './checker.ts';
import { commandsText, fakeJobs, realJobs, type JobSpec } from './commands.ts';
import { readMasterJournal, readMasterResults, spooledParts } from './disk-state.ts';
import { FaultInjector, planFaults, type FaultCounts } from './faults.ts';
import { Mesh } from './mesh.ts';
import { chaosOptions, parseChaosArgs, type ChaosOptions } from './options.ts';
import { passed, summaryLine } from './report.ts';
import { seededRng } from './rng.ts';

/**
 * The fault-injection suite of issue 3: a real mesh (master, workers, broker, InfluxDB as
 * separate processes) runs every line of a generated commands.txt while a seeded plan SIGKILLs
 * workers and the master, restarts the broker and takes InfluxDB away. When every job has ended
 * and everything is delivered, the checker decides from InfluxDB and the state dirs whether each
 * job ended exactly once.
 *
 *   node --import tsx test/chaos/chaos.ts --jobs 2000 --workers 20 [--seed N] [--duration S]
 *     [--broker embedded|mosquitto] [--real-nmap] [--self-test] …   (see options.ts)
 */

export interface ChaosResult {
  ok: boolean;
  /** The summary, e.g. `chaos: jobs=2000 completed=1990 … lost=0 duplicated=0 — OK`. */
  line: string;
  verdict: Verdict;
  faults: FaultCounts;
  unexpectedExits: string[];
  /** Whether every job ended and everything was delivered before --duration ran out. */
  settled: boolean;
  wallS: number;
  /** With `selfTest`: what the checker said about InfluxDB after it was damaged on purpose. */
  selfTest?: { lost: number; duplicated: number };
  /** The run dir, kept when the run failed or `keep` (logs/, commands.txt, state dirs). */
  keptDir?: string;
}

const INFLUX_DB = 'chaos';
const POLL_MS = 1_000;
const PROGRESS_EVERY_MS = 10_000;
/** Held back from the first commands.txt and appended while the master is down. */
const LATE_SHARE = 0.1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(given: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const o = chaosOptions(given);
  const rng = seededRng(o.seed);
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'scanmesh-chaos-'));
  let influxd: InfluxdHandle | null = null;
  let listeners: Listeners | null = null;
  let mesh: Mesh | null = null;
  let injector: FaultInjector | null = null;
  let keep = true;
  try {
    influxd = await startInfluxd();
    let jobs: JobSpec[];
    if (o.realNmap) {
      listeners = await openListeners('127.0.0.1', 4);
      jobs = realJobs(o.jobs, o.poison, listeners.ports, [await closedPort('127.0.0.1')]);
    } else {
      jobs = fakeJobs(o.jobs, o.poison, rng);
    }
    // With master kills, the last lines arrive while the master is down: it must pick them up.
    const late = o.masterKills > 0 ? Math.floor(jobs.length * LATE_SHARE) : 0;
    const commandsPath = join(dir, 'commands.txt');
    await writeFile(commandsPath, commandsText(jobs.slice(0, jobs.length - late)));
    let lateWritten = late === 0;
    const appendLate = async () => {
      if (lateWritten) return;
      lateWritten = true;
      await appendFile(commandsPath, commandsText(jobs.slice(jobs.length - late)));
      o.log(`chaos: appended ${late} lines while the master is down`);
    };

    o.log(
      `chaos: seed=${o.seed} jobs=${o.jobs} workers=${o.workers} broker=${o.broker}` +
        `${o.realNmap ? ' real-nmap' : ''} dir=${dir}`,
    );
    mesh = await Mesh.start({
      dir,
      commandsPath,
      broker: o.broker,
      workers: o.workers,
      nmapPath: o.realNmap ? 'nmap' : await compileFakeNmap(dir),
      influxUrl: influxd.url,
      influxDb: INFLUX_DB,
      jobTimeoutS: o.jobTimeoutS,
      maxAttempts: o.maxAttempts,
      workerEnv: { SCANMESH_FAKE_DELAY_MS: String(o.fakeDelayMs) },
    });
    injector = new FaultInjector(planFaults(o, rng), mesh, influxd, rng, o.log, appendLate);
    const settled = await runUntilSettled(o, jobs, mesh, injector, () => lateWritten, started);
    await injector.settle();
    await mesh.stop();

    const influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: INFLUX_DB });
    const disk = await readDisk(mesh);
    const verdict = check({ jobs, ...disk, ...(await readInflux(influx)) });
    const unexpectedExits = [...mesh.unexpectedExits];
    for (const p of [...verdict.problems.slice(0, 50), ...unexpectedExits]) o.log(`chaos: ${p}`);
    const poison = jobs.filter((j) => j.poison);
    // Allowed (they ended, with a reason), but worth a look: a good line that failed.
    for (const j of jobs.filter((j) => !j.poison)) {
      const end = disk.journal.final.get(j.id);
      if (end?.status === 'failed') o.log(`chaos: failed (not poison) ${j.id}: ${end.reason}`);
    }
    const poisonFailed = poison.filter((j) => disk.journal.final.get(j.id)?.status === 'failed');
    const wallS = Math.round((Date.now() - started) / 1000);
    o.log(
      `chaos: poison lines failed ${poisonFailed.length}/${poison.length}; ` +
        `other failed jobs ${verdict.failed - poisonFailed.length}; ` +
        `settled ${settled ? 'yes' : 'NO'}; wall ${wallS} s; seed ${o.seed}`,
    );
    const result: ChaosResult = {
      ok: passed(verdict, unexpectedExits) && settled,
      line: summaryLine(verdict, injector.counts, o.broker, unexpectedExits),
      verdict,
      faults: injector.counts,
      unexpectedExits,
      settled,
      wallS,
    };
    if (o.selfTest) {
      result.selfTest = await selfTest(influx, jobs, disk, o.log);
      // A checker that does not notice the damage proves nothing about the run either.
      if (result.selfTest.lost < 1 || result.selfTest.duplicated < 1) result.ok = false;
    }
    keep = !result.ok || o.keep;
    if (keep) result.keptDir = dir;
    return result;
  } finally {
    // A restart still pending would otherwise start a process after everything was stopped.
    await injector?.settle().catch(() => undefined);
    await mesh?.stop().catch(() => undefined);
    await listeners?.close();
    await influxd?.stop();
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Polls the master's journal and the spools once a second, fires the faults that are due, and
 * returns true once every job has ended, the outbox and every spool are empty and every fault has
 * run its course; false if --duration runs out first or a process exits by itself.
 */
async function runUntilSettled(
  o: ChaosOptions,
  jobs: readonly JobSpec[],
  mesh: Mesh,
  injector: FaultInjector,
  allLinesWritten: () => boolean,
  started: number,
): Promise<boolean> {
  const deadline = started + o.durationS * 1000;
  let lastLog = Date.now();
  // A process that dies on its own is a finding already; waiting for jobs it abandoned is not.
  while (Date.now() < deadline && mesh.unexpectedExits.length === 0) {
    const journal = await readMasterJournal(mesh.masterStateDir);
    const ended = jobs.filter((j) => journal.final.has(j.id)).length;
    injector.tick(ended / jobs.length);
    const spooled = await spooledTotal(mesh);
    if (ended === jobs.length && journal.outbox === 0 && spooled === 0) {
      if (injector.finished && allLinesWritten()) return true;
    }
    if (Date.now() - lastLog >= PROGRESS_EVERY_MS) {
      lastLog = Date.now();
      const f = injector.counts;
      o.log(
        `chaos: t=${Math.round((Date.now() - started) / 1000)}s ended=${ended}/${jobs.length} ` +
          `outbox=${journal.outbox} spooled=${spooled} kills: workers=${f.workerKills} ` +
          `master=${f.masterKills} broker=${f.brokerRestarts} influx=${f.influxOutages}`,
      );
    }
    await sleep(POLL_MS);
  }
  return false;
}

async function spooledTotal(mesh: Mesh): Promise<number> {
  let total = 0;
  for (const dir of mesh.workerStateDirs().values()) total += await spooledParts(dir);
  return total;
}

async function readDisk(mesh: Mesh) {
  const spools = new Map<string, number>();
  for (const [id, dir] of mesh.workerStateDirs()) spools.set(id, await spooledParts(dir));
  return {
    journal: await readMasterJournal(mesh.masterStateDir),
    results: await readMasterResults(mesh.masterStateDir),
    spools,
  };
}

/**
 * Proof that the checker can fail: delete the `scan` point of one completed job and write a
 * second `host` point for another, then check again. Both must be caught.
 */
async function selfTest(
  influx: InfluxDB,
  jobs: readonly JobSpec[],
  disk: Awaited<ReturnType<typeof readDisk>>,
  log: (line: string) => void,
): Promise<{ lost: number; duplicated: number }> {
  const facts: InfluxFacts = await readInflux(influx);
  const done = jobs.filter((j) => disk.journal.final.get(j.id)?.status === 'done');
  const [victim, doubled] = done;
  if (!victim || !doubled) {
    log('chaos self-test: skipped, it needs two completed jobs');
    return { lost: 0, duplicated: 0 };
  }
  const scan = facts.scans.find((r) => r.job === victim.id && r.status === 'completed');
  const host = facts.hosts.find((r) => r.job === doubled.id);
  if (!scan || !host) {
    log('chaos self-test: skipped, the completed jobs have no points');
    return { lost: 0, duplicated: 0 };
  }
  await influx.query(`DELETE FROM "scan" WHERE time >= ${scan.time} AND time <= ${scan.time}`);
  await influx.writePoints(
    [
      {
        measurement: 'host',
        tags: { host: host.host, worker: host.worker, status: 'up' },
        fields: { job: doubled.id },
        // Attempt digits 500: no real attempt of this job has that timestamp.
        timestamp: (BigInt(host.time) + 500n).toString(),
      },
    ],
    { precision: 'n' },
  );
  const damaged = check({ jobs, ...disk, ...(await readInflux(influx)) });
  log(
    `chaos self-test: deleted the scan point of ${victim.id}, doubled a host point of ` +
      `${doubled.id}: checker says lost=${damaged.lost} duplicated=${damaged.duplicated}`,
  );
  return { lost: damaged.lost, duplicated: damaged.duplicated };
}

// Run from the command line: the summary is the last line, the exit code says whether it held.
const invokedAs = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedAs === realpathSync(fileURLToPath(import.meta.url))) {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const result = await runChaos({ ...options, log: (line) => console.log(line) });
  if (result.keptDir) console.log(`chaos: run dir kept for inspection: ${result.keptDir}`);
  console.log(result.line);
  process.exit(result.ok ? 0 : 1);
}
