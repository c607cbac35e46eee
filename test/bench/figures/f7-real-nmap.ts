import { openListeners } from '../../harness/listeners.ts';
import type { BenchContext } from '../lib/context.ts';
import { breakdown } from '../lib/breakdown.ts';
import { startMesh } from '../lib/mesh.ts';
import { runPlain } from '../lib/plain.ts';
import { fmtMs, median } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

/**
 * Figure 7: one real nmap connect scan of listeners on 127.0.0.1, through the mesh (assignment
 * to result filed, one real worker) and as plain nmap, alternately, median of each.
 */
export async function figure7(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f7');
  const listeners = await openListeners('127.0.0.1', 4);
  const args = ['-sT', '-p', listeners.ports.join(','), '127.0.0.1'];
  const mesh = await startMesh({ dir, influx: { url: ctx.influxd.url, database: 'bench_f7' } });
  const workers = await startWorkerHosts({ mesh, dir, count: 1, nmapPath: 'nmap' });
  const plain: number[] = [];
  const through: number[] = [];
  let legs = '';
  try {
    for (let i = 0; i < ctx.options.nmapReps; i++) {
      plain.push(await runPlain('nmap', args));
      const before = mesh.finished.size;
      // The same line again is a new job (`j-<hash>-<n>` counts identical lines).
      await mesh.addCommands([args.join(' ')]);
      await mesh.waitFinished(before + 1, 120_000);
      const [job, filed] = [...mesh.finished][before] as [string, number];
      through.push(filed - (mesh.assigned.get(`${job}#1`) as number));
      await mesh.settle();
    }
    legs = breakdown(mesh, await workers.report());
  } finally {
    await workers.stop();
    await mesh.stop();
    await listeners.close();
  }
  const m = median(through);
  const p = median(plain);
  ctx.log(
    `mesh ${through.map(fmtMs).join(', ')}; plain ${plain.map(fmtMs).join(', ')}; per job: ${legs}`,
  );
  return [
    {
      id: '7',
      name: `real nmap -sT of 4 loopback ports through the mesh (${through.length} runs)`,
      value: `${fmtMs(m)} assigned → filed`,
      limit: `plain nmap: ${fmtMs(p)}`,
      ratio: ratio(m, p),
      goal: '≤ 1.05 or + 100 ms',
      verdict: verdict(m <= 1.05 * p || m - p <= 100, m, p),
    },
  ];
}
