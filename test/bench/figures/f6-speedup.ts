import type { BenchContext } from '../lib/context.ts';
import { writeFakeNmap } from '../lib/fake-nmap.ts';
import { makespan, startMesh } from '../lib/mesh.ts';
import { loadWindow } from '../lib/load.ts';
import { breakdown } from '../lib/breakdown.ts';
import { fmtMs, fmtNum } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

const SLEEP_MS = 1000;

/**
 * Figure 6: N real workers on sleep-bound jobs (a fake nmap that sleeps 1 s), k jobs per worker,
 * first assignment to last result filed. The limit is N times what one worker does in this run.
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
    const jobs = n * k;
    const load = loadWindow();
    await mesh.addCommands(Array.from({ length: jobs }, (_, i) => `-sT -p ${1 + i} 127.0.0.1`));
    await mesh.waitFinished(jobs, 120_000 + jobs * SLEEP_MS);
    const busy = load.stop();
    const ms = makespan(mesh);
    perSecond.set(n, jobs / (ms / 1000));
    ctx.log(
      `${n} workers: ${jobs} jobs in ${fmtMs(ms)}; master event loop busy ` +
        `${(busy.elu * 100).toFixed(0)} %; per job: ${breakdown(mesh, await workers.report())}`,
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
