import type { BenchContext } from '../lib/context.ts';
import { writeFakeNmap } from '../lib/fake-nmap.ts';
import { startMesh, type BenchMesh } from '../lib/mesh.ts';
import { loadWindow } from '../lib/load.ts';
import { breakdown, cpuWindow } from '../lib/breakdown.ts';
import { fmtMs, fmtNum } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

const SLEEP_MS = 1000;

/**
 * Figure 6: N real workers on sleep-bound jobs (a fake nmap that sleeps 1 s), k jobs per worker,
 * first assignment to last result filed. The limit is N times what one worker does in this run.
 *
 * Every N first runs one untimed job per worker, the one-worker limit included: deployed workers
 * and masters run for days, and a fresh process compiling its job path (about 1 ms of CPU per job
 * in a 100-worker run) is not what the figure is about. The workers share the bench's two worker
 * processes, one per core: with 5 to 20 the workers' CPU per job grew (each process has a runtime
 * of its own), and they came out ahead only on a busy machine, by taking more of it.
 */
export async function figure6(ctx: BenchContext): Promise<Row[]> {
  const k = ctx.options.speedupJobsPerWorker;
  const counts = [...new Set([1, ...ctx.options.speedup])].sort((a, b) => a - b);
  const perSecond = new Map<number, number>();
  for (const n of counts) {
    const dir = await ctx.scratch(`f6-${n}`);
    const mesh = await startMesh({
      dir,
      influx: { url: ctx.influxd.url, database: `bench_f6_${n}` },
    });
    const workers = await startWorkerHosts({
      mesh,
      dir,
      count: n,
      nmapPath: await writeFakeNmap(dir, { fixedMs: SLEEP_MS }),
    });
    // Ports apart from the timed jobs' 1…n·k, so the warm-up's command lines are jobs of their own.
    await mesh.addCommands(Array.from({ length: n }, (_, i) => `-sT -p ${60001 + i} 127.0.0.1`));
    await mesh.waitFinished(n, 120_000 + SLEEP_MS);
    const warmUp = new Set(mesh.finished.keys());
    const jobs = n * k;
    const load = loadWindow();
    const cpu = cpuWindow(workers.children.flatMap((c) => c.proc.pid ?? []));
    await mesh.addCommands(Array.from({ length: jobs }, (_, i) => `-sT -p ${1 + i} 127.0.0.1`));
    await mesh.waitFinished(n + jobs, 120_000 + jobs * SLEEP_MS);
    const busy = load.stop();
    const spent = cpu.stop(jobs);
    const ms = makespan(mesh, warmUp);
    perSecond.set(n, jobs / (ms / 1000));
    ctx.log(
      `${n} workers: ${jobs} jobs in ${fmtMs(ms)} after a warm-up job each; master event loop ` +
        `busy ${(busy.elu * 100).toFixed(0)} %; ${spent}; per job: ` +
        breakdown(mesh, await workers.report(), warmUp),
    );
    await workers.stop();
    await mesh.stop();
  }
  const one = perSecond.get(1) as number;
  return counts
    .filter((n) => n > 1)
    .map((n, i) => {
      const measured = perSecond.get(n) as number;
      const limit = n * one;
      return {
        id: `6${'abcdefgh'[i] ?? ''}`,
        name: `speed-up, ${n} workers × ${k} jobs of 1 s`,
        value: `${fmtNum(measured, 2)} jobs/s`,
        limit: `${n} × one worker (${fmtNum(one, 3)} jobs/s) = ${fmtNum(limit, 2)} jobs/s`,
        ratio: ratio(measured, limit),
        goal: '≥ 0.95',
        verdict: verdict(measured >= 0.95 * limit, measured, limit),
      };
    });
}

/** Elapsed ms from the first assignment to the last filed result of the timed jobs. */
function makespan(mesh: BenchMesh, leaveOut: ReadonlySet<string>): number {
  const timed = (job: string) => !leaveOut.has(job);
  const starts = [...mesh.assigned]
    .filter(([key]) => timed(key.slice(0, key.lastIndexOf('#'))))
    .map(([, at]) => at);
  const ends = [...mesh.finished].filter(([job]) => timed(job)).map(([, at]) => at);
  return Math.max(...ends) - Math.min(...starts);
}
