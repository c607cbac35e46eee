import type { BenchContext } from '../lib/context.ts';
import { openBannerListeners } from '../lib/banner-listeners.ts';
import { breakdown } from '../lib/breakdown.ts';
import { makespan, startMesh } from '../lib/mesh.ts';
import { runPlain } from '../lib/plain.ts';
import { fmtMs, nowMs, sum } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

const WORKERS = 2;

/**
 * Figure 8: the seed's workload, distinct `nmap -sV -p <4 ports> 127.0.0.1` commands against
 * listeners that greet like real services, on two real workers, against the ideal: the sum of the
 * same commands' plain-nmap times, halved.
 */
export async function figure8(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f8');
  const count = ctx.options.seedCommands;
  const listeners = await openBannerListeners(4 * count);
  const commands = Array.from({ length: count }, (_, i) => [
    '-sV',
    '-p',
    listeners.ports.slice(4 * i, 4 * i + 4).join(','),
    '127.0.0.1',
  ]);
  try {
    const plain: number[] = [];
    for (const args of commands) plain.push(await runPlain('nmap', args));
    const ideal = sum(plain) / WORKERS;

    const mesh = await startMesh({ dir, influx: { url: ctx.influxd.url, database: 'bench_f8' } });
    const workers = await startWorkerHosts({ mesh, dir, count: WORKERS, nmapPath: 'nmap' });
    await mesh.addCommands(commands.map((a) => `nmap ${a.join(' ')}`));
    await mesh.waitFinished(count, 300_000);
    const wall = makespan(mesh);
    const legs = breakdown(mesh, await workers.report());
    await workers.stop();
    await mesh.stop();
    // Both workers share this machine's two cores, and -sV is half CPU: what two plain nmaps
    // side by side take here, with no mesh, shows how much of a gap that contention explains.
    const queue = [...commands];
    const t0 = nowMs();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let a = queue.shift(); a !== undefined; a = queue.shift()) await runPlain('nmap', a);
      }),
    );
    const lanes = nowMs() - t0;
    ctx.log(
      `plain runs ${plain.map(fmtMs).join(', ')}; mesh wall ${fmtMs(wall)}; ` +
        `${WORKERS} plain lanes ${fmtMs(lanes)}; per job: ${legs}`,
    );
    return [
      {
        id: '8',
        name: `seed workload: ${count} × nmap -sV -p <4 ports>, ${WORKERS} workers`,
        value: `${fmtMs(wall)} wall`,
        limit: `ideal Σ plain ÷ ${WORKERS} = ${fmtMs(ideal)} (${WORKERS} plain lanes: ${fmtMs(lanes)})`,
        ratio: ratio(wall, ideal),
        goal: '≤ 1.15',
        verdict: verdict(wall <= 1.15 * ideal, wall, ideal),
      },
    ];
  } finally {
    await listeners.close();
  }
}
