import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../src/clock.ts';
import { DEFAULT_POLICY } from '../../../src/nmap/policy.ts';
import { loadMasterPublicKey } from '../../../src/security/master-key.ts';
import type { WorkerEffect } from '../../../src/worker/core/types.ts';
import { startWorker, type RunningWorker } from '../../../src/worker/worker.ts';
import type { BenchContext } from '../lib/context.ts';
import { writeFakeNmap } from '../lib/fake-nmap.ts';
import { openDurableWriter } from '../lib/fsync.ts';
import { startMesh, TOPIC_ROOT } from '../lib/mesh.ts';
import { startPinger } from '../lib/raw-mqtt.ts';
import { fmtMs, median, nowMs, percentile, waitUntil } from '../lib/stats.ts';
import { ratio, verdict, type Row } from '../table.ts';

interface Timeline {
  received?: number;
  ran?: number;
  endSeq?: number;
  acked?: number;
}

/**
 * Figure 1: a zero-work job's control-plane cost, assign → JOB at the worker, and nmap's exit →
 * end part spooled, sent, journaled by the master → its DATA_ACK back at the worker. The fake
 * nmap's own run (spawn to exit) is left out. One job at a time, a real master and a real worker
 * shell in this process (one clock), over TCP to the embedded broker.
 */
export async function figure1(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f1');
  const mesh = await startMesh({
    dir,
    influx: { url: ctx.influxd.url, database: 'bench_f1' },
  });
  const worker = await startWorker({
    id: 'w1',
    topicRoot: TOPIC_ROOT,
    broker: { url: `mqtt://127.0.0.1:${mesh.broker.port}` },
    slots: 1,
    stateDir: join(dir, 'w1'),
    nmapPath: await writeFakeNmap(dir),
    policy: DEFAULT_POLICY,
    resolve: (name) => Promise.reject(new Error(`unexpected lookup of ${name}`)),
    resendAfterMs: 10_000,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    onFatal: (err) => mesh.problems.push(String(err)),
    masterKey: await loadMasterPublicKey(mesh.masterPubPath),
  });
  await worker.ready;
  const timelines = observeWorker(worker);
  await waitUntil(() => mesh.master.core.state.workers.has('w1'), 'the worker to join', 10_000);

  const pinger = await startPinger(mesh.broker.port);
  const disk = await openDurableWriter(dir);
  const overhead: number[] = [];
  const dispatch: number[] = [];
  const back: number[] = [];
  const workerLeg: number[] = [];
  const filed: number[] = [];
  const rtt: number[] = [];
  const fsyncs: number[] = [];
  for (let i = 0; i < ctx.options.latencyJobs; i++) {
    const before = mesh.finished.size;
    await mesh.addCommands([`-sT -p ${10_000 + i} 127.0.0.1`]);
    await mesh.waitFinished(before + 1, 10_000);
    const job = [...mesh.finished.keys()][before] as string;
    const t = timelines.get(job) as Timeline;
    await waitUntil(() => t.acked !== undefined, `the DATA_ACK of ${job}`, 10_000);
    // Results on their way to InfluxDB and deltas would overlap the next job: let them land.
    await mesh.settle();
    const assigned = mesh.assigned.get(`${job}#1`) as number;
    const d = (t.received as number) - assigned;
    const b = (t.acked as number) - (t.ran as number);
    dispatch.push(d);
    workerLeg.push((mesh.endAt.get(job) as number) - (t.ran as number));
    // Not part of the figure (the DATA_ACK rests on the journaled end part), but the attempt
    // counts as done only once its results file and `ended` record are durable.
    filed.push((mesh.finished.get(job) as number) - (mesh.endAt.get(job) as number));
    back.push(b);
    overhead.push(d + b);
    // The limits, sampled between the jobs so that both see the same disk and the same load.
    rtt.push(await pinger.roundTrip(), await pinger.roundTrip());
    fsyncs.push(await disk.sample());
  }
  await worker.stop();
  await pinger.close();
  await disk.close();
  await mesh.stop();
  const fsync = median(fsyncs);

  const med = median(overhead);
  const limit = 3 * median(rtt) + fsync;
  ctx.log(
    `median legs: assign→JOB at worker ${fmtMs(median(dispatch))}, nmap exit→end ack ` +
      `${fmtMs(median(back))} (of which nmap exit→end part at the master's core ` +
      `${fmtMs(median(workerLeg))}); end part at the core → attempt filed ` +
      `${fmtMs(median(filed))}; raw RTT median ${fmtMs(median(rtt))} p99 ` +
      `${fmtMs(percentile(rtt, 99))}; one durable write ${fmtMs(fsync)}; problems: ${mesh.problems.length}`,
  );
  return [
    {
      id: '1',
      name: `control-plane overhead per zero-work job (${overhead.length} jobs)`,
      value: `median ${fmtMs(med)}, p99 ${fmtMs(percentile(overhead, 99))}`,
      limit: `3 RTT + 1 fsync = ${fmtMs(limit)} (RTT ${fmtMs(median(rtt))}, fsync ${fmtMs(fsync)})`,
      ratio: ratio(med, limit),
      goal: '≤ 1.00 (median)',
      verdict: verdict(med <= limit, med, limit),
    },
  ];
}

/** Timestamps of one worker's steps, by job: its core's methods wrapped on the instance. */
function observeWorker(worker: RunningWorker): Map<string, Timeline> {
  const timelines = new Map<string, Timeline>();
  const core = worker.core;
  const at = (job: string) => {
    let t = timelines.get(job);
    if (!t) timelines.set(job, (t = {}));
    return t;
  };
  const job = core.job.bind(core);
  core.job = (msg, now) => {
    at(msg.job).received = nowMs();
    return job(msg, now);
  };
  const runEnded = core.runEnded.bind(core);
  core.runEnded = (jobId, attempt, outcome) => {
    const t = at(jobId);
    t.ran = nowMs();
    const fx: WorkerEffect[] = runEnded(jobId, attempt, outcome);
    for (const e of fx)
      if (e.type === 'spool' && e.message.part === 'end') t.endSeq = e.message.seq;
    return fx;
  };
  const ack = core.ack.bind(core);
  core.ack = (msg) => {
    const t = at(msg.job);
    if (msg.seq === t.endSeq) t.acked = nowMs();
    return ack(msg);
  };
  return timelines;
}
