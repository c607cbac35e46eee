import type { EmbeddedBroker } from '../../../src/broker/embedded.ts';
import type { BenchContext } from '../lib/context.ts';
import { loadWindow } from '../lib/load.ts';
import { retainedMB } from '../lib/memory.ts';
import { loopbackBroker, startMesh, TOPIC_ROOT, type BenchMesh } from '../lib/mesh.ts';
import { openLocalLink } from '../lib/raw-mqtt.ts';
import { startSims, type SimFleet } from '../lib/sims.ts';
import { epochMs, fmtMs, fmtNum, median, nowMs, sleep, waitUntil } from '../lib/stats.ts';
import { ratio, verdict, type Row } from '../table.ts';

/** The interval the goal is stated for: 10,000 workers, one core, a hello every 5 s. */
const GOAL_INTERVAL_MS = 5000;

/**
 * Figure 5: thousands of simulated workers (persistent sessions and last wills, like real ones)
 * on the embedded broker. Each size runs twice on a fresh broker: first with nothing behind the
 * broker but a plain client doing what a hello round does (the limit), then with a real master.
 */
export async function figure5(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of ctx.options.workersScale) rows.push(...(await scale(ctx, n)));
  return rows;
}

/**
 * Retained memory once what earlier figures let go (sockets closing, timers) is really gone: a
 * baseline taken too early makes the growth that follows look smaller, even negative.
 */
async function settledMB(): Promise<number> {
  await sleep(1000);
  return retainedMB();
}

function signed(mb: number): string {
  return `${mb >= 0 ? '+' : '−'}${fmtNum(Math.abs(mb))}`;
}

/** Child process sizes: the first holds the 10 % that vanish, the rest at most 3,000 each. */
function fleetSizes(n: number): number[] {
  const vanish = Math.round(n / 10);
  const rest = n - vanish;
  const processes = Math.max(2, Math.ceil(rest / 3000));
  return [
    vanish,
    ...Array.from(
      { length: processes },
      (_, i) => Math.floor(rest / processes) + (i < rest % processes ? 1 : 0),
    ),
  ];
}

async function scale(ctx: BenchContext, n: number): Promise<Row[]> {
  const rounds = ctx.options.scaleRounds;
  const helloMs = ctx.options.scaleHelloS * 1000;
  const sizes = fleetSizes(n);

  // The limit: the same fleet connecting, and hello rounds answered, with no master.
  let broker = await loopbackBroker();
  const rssBefore = await settledMB();
  let fleet = await startSims(broker.port, sizes, {
    prefix: 'r',
    mode: 'worker',
    persistent: true,
  });
  const rawConnectMs = fleet.doneAt - fleet.startedAt;
  const rawRounds = await helloRounds(broker, n, rounds, helloMs);
  const rawRssMB = retainedMB() - rssBefore;
  await fleet.stop();
  await broker.close();

  // The master, on a fresh broker.
  broker = await loopbackBroker();
  const dir = await ctx.scratch(`f5-${n}`);
  const mesh = await startMesh({
    dir,
    broker,
    influx: { url: ctx.influxd.url, database: `bench_f5_${n}` },
    helloIntervalMs: helloMs,
  });
  const rssMaster0 = await settledMB();
  const seen = watchMaster(mesh, n);
  fleet = await startSims(broker.port, sizes, { prefix: 's', mode: 'worker', persistent: true });
  await waitUntil(() => seen.allKnownAt !== null, `the master to know ${n} workers`, 300_000);
  const discoverMs = (seen.allKnownAt as number) - fleet.startedAt;

  // Whole hello rounds: from one round's start to the start of the round `rounds` later.
  await seen.nextRound();
  const load = loadWindow();
  for (let r = 0; r < rounds; r++) await seen.nextRound();
  const used = load.stop();
  const cpuPerRoundMs = used.cpuMs / rounds;
  const masterRssMB = retainedMB() - rssMaster0;

  const vanished = await vanish(mesh, fleet, sizes[0] as number);
  await fleet.stop();
  await mesh.stop();
  await broker.close();

  const rawCpu = rawRounds.cpuPerRoundMs;
  const coreShare = cpuPerRoundMs / GOAL_INTERVAL_MS;
  ctx.log(
    `${fmtNum(n)} workers: connect without master ${fmtMs(rawConnectMs)}, discovery ${fmtMs(discoverMs)}; ` +
      `a round is answered in ${fmtMs(median(seen.roundMs))} (raw ${fmtMs(median(rawRounds.wallMs))}); ` +
      `CPU/round master ${fmtMs(cpuPerRoundMs)}, raw broker ${fmtMs(rawCpu)}; retained memory ${signed(masterRssMB)} MB ` +
      `(raw ${signed(rawRssMB)} MB); ${vanished.count} vanished: wills at an observer after ` +
      `${fmtMs(vanished.observerMs)}, all INACTIVE at the master after ${fmtMs(vanished.masterMs)}`,
  );
  const k = `${fmtNum(n)}`;
  return [
    {
      id: '5a',
      name: `${k} workers: time to discover all`,
      value: fmtMs(discoverMs),
      limit: `connect + subscribe, no master: ${fmtMs(rawConnectMs)}`,
      ratio: ratio(discoverMs, rawConnectMs),
      goal: '— (info)',
      verdict: 'INFO',
    },
    {
      id: '5b',
      name: `${k} workers: master CPU per hello round`,
      value: `${fmtMs(cpuPerRoundMs)} = ${(coreShare * 100).toFixed(1)} % of a core at 5 s`,
      limit: `broker alone, same round: ${fmtMs(rawCpu)}`,
      ratio: ratio(cpuPerRoundMs, rawCpu),
      goal: '< 1 core at 5 s',
      verdict: verdict(coreShare < 1, cpuPerRoundMs, rawCpu),
    },
    {
      id: '5c',
      name: `${k} workers: master memory`,
      value: `${signed(masterRssMB)} MB retained (${fmtNum((masterRssMB * 1024) / n, 1)} KB/worker)`,
      limit: `broker alone: ${signed(rawRssMB)} MB`,
      ratio: ratio(masterRssMB, rawRssMB),
      goal: '— (info)',
      verdict: 'INFO',
    },
    {
      id: '5d',
      name: `${k} workers: mark the 10 % that vanish INACTIVE`,
      value: fmtMs(vanished.masterMs),
      limit: `their wills at a plain subscriber: ${fmtMs(vanished.observerMs)}`,
      ratio: ratio(vanished.masterMs, vanished.observerMs),
      goal: '— (info)',
      verdict: 'INFO',
    },
  ];
}

interface MasterWatch {
  allKnownAt: number | null;
  /** Per round: ms from S_HELLO until every worker's CL_HELLO was handled. */
  roundMs: number[];
  nextRound(): Promise<void>;
}

/** Follows the master's steps: when it knows all `n`, and how long each round takes to answer. */
function watchMaster(mesh: BenchMesh, n: number): MasterWatch {
  const workers = mesh.master.core.state.workers;
  const watch: MasterWatch = { allKnownAt: null, roundMs: [], nextRound: () => Promise.resolve() };
  let roundStart = 0;
  let answers = 0;
  // Counted once per round: the hook runs on every CL_HELLO and must cost the master nothing.
  let expected = 0;
  let waiting: (() => void)[] = [];
  mesh.hooks.push((method, _effects, now) => {
    if (method === 'clHello') {
      if (watch.allKnownAt === null && workers.size >= n) watch.allKnownAt = epochMs();
      answers += 1;
      if (roundStart > 0 && answers === expected) watch.roundMs.push(now - roundStart);
    }
    if (method === 'helloRound') {
      roundStart = now;
      answers = 0;
      expected = alive();
      const w = waiting;
      waiting = [];
      for (const resolve of w) resolve();
    }
  });
  const alive = () => {
    let count = 0;
    for (const w of workers.values()) if (w.state !== 'INACTIVE') count += 1;
    return count;
  };
  watch.nextRound = () => new Promise((resolve) => waiting.push(resolve));
  return watch;
}

/**
 * Hello rounds with no master, at the master's interval: S_HELLO from an in-process client, and
 * every answer taken in. CPU is counted over whole intervals, as for the master.
 */
async function helloRounds(
  broker: EmbeddedBroker,
  n: number,
  rounds: number,
  intervalMs: number,
): Promise<{ cpuPerRoundMs: number; wallMs: number[] }> {
  let answers = 0;
  const client = await openLocalLink(broker, `${TOPIC_ROOT}workers/+/hello`, () => {
    answers += 1;
  });
  const wallMs: number[] = [];
  const load = loadWindow();
  for (let r = 0; r < rounds; r++) {
    const started = nowMs();
    answers = 0;
    const hello = { kind: 'S_HELLO', master: 'bench', round: r + 1, ts: Date.now() };
    client.publish(`${TOPIC_ROOT}master/hello`, Buffer.from(JSON.stringify(hello)), 0);
    await waitUntil(() => answers >= n, `${n} answers to a raw hello`, 120_000, 1);
    wallMs.push(nowMs() - started);
    await sleep(Math.max(0, intervalMs - (nowMs() - started)));
  }
  const used = load.stop();
  await client.close();
  return { cpuPerRoundMs: used.cpuMs / rounds, wallMs };
}

/** SIGKILLs the process holding the first `count` workers; times wills and INACTIVE marks. */
async function vanish(
  mesh: BenchMesh,
  fleet: SimFleet,
  count: number,
): Promise<{ count: number; masterMs: number; observerMs: number }> {
  const ids = Array.from({ length: count }, (_, i) => `s${i + 1}`);
  let wills = 0;
  let observerMs = NaN;
  let killedAt = NaN;
  const observer = await openLocalLink(mesh.broker, `${TOPIC_ROOT}workers/+/bye`, () => {
    wills += 1;
    if (wills === count) observerMs = nowMs() - killedAt;
  });
  killedAt = nowMs();
  fleet.children[0]?.kill('SIGKILL');
  const workers = mesh.master.core.state.workers;
  await waitUntil(
    () => ids.every((id) => workers.get(id)?.state === 'INACTIVE'),
    `${count} workers INACTIVE`,
    120_000,
  );
  const masterMs = nowMs() - killedAt;
  await waitUntil(() => wills >= count, `${count} wills`, 30_000, 1);
  await observer.close();
  return { count, masterMs, observerMs };
}
