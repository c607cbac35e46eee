import { parseCommandsFile } from '../../../src/master/commands-file.ts';
import { DEFAULT_POLICY } from '../../../src/nmap/policy.ts';
import type { BenchContext } from '../lib/context.ts';
import { writeFakeNmap } from '../lib/fake-nmap.ts';
import { breakdown } from '../lib/breakdown.ts';
import { startMesh } from '../lib/mesh.ts';
import { runPlain } from '../lib/plain.ts';
import { fmtMs, nowMs } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

/** Addresses per block: every block is one /29. */
const BLOCK_ADDRESSES = 8;

/**
 * Figure 9: one `@split N` line over N workers against the same line unsplit on one, with a fake
 * nmap whose run time grows with the addresses it is given. The limit is the speed-up of running
 * the same block commands as plain processes in parallel against the unsplit one.
 */
export async function figure9(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f9');
  const blocks = ctx.options.splitBlocks;
  const targets = Array.from({ length: blocks }, (_, i) => `127.0.${i + 1}.0/29`);
  const line = `-sT -p 80 ${targets.join(' ')}`;
  const split = `@split ${blocks} ${line}`;
  const nmap = await writeFakeNmap(dir, { perTargetMs: ctx.options.splitMsPerTarget });
  const blockArgs = parseCommandsFile(split, DEFAULT_POLICY, 300).entries.map((e) => e.args);
  if (blockArgs.length !== blocks) throw new Error(`split into ${blockArgs.length}, not ${blocks}`);

  const mesh = await startMesh({ dir, influx: { url: ctx.influxd.url, database: 'bench_f9' } });
  const workers = await startWorkerHosts({ mesh, dir, count: blocks, nmapPath: nmap });
  try {
    // Unsplit through the mesh, and the plain run beside it: both only sleep.
    const [plainWhole] = await Promise.all([
      runPlain(nmap, line.split(' ')),
      mesh.addCommands([line]).then(() => mesh.waitFinished(1, 600_000)),
    ]);
    const [[wholeJob, wholeFiled]] = [...mesh.finished] as [[string, number]];
    const whole = wholeFiled - (mesh.assigned.get(`${wholeJob}#1`) as number);
    await mesh.settle();

    await mesh.addCommands([split]);
    await mesh.waitFinished(1 + blocks, 120_000);
    const parts = [...mesh.finished].slice(1);
    const starts = parts.map(([job]) => mesh.assigned.get(`${job}#1`) as number);
    const splitMs = Math.max(...parts.map(([, at]) => at)) - Math.min(...starts);

    const t0 = nowMs();
    await Promise.all(blockArgs.map((args) => runPlain(nmap, args)));
    const plainSplit = nowMs() - t0;

    const legs = breakdown(mesh, await workers.report());
    const speedup = whole / splitMs;
    const limit = plainWhole / plainSplit;
    ctx.log(
      `mesh: unsplit ${fmtMs(whole)}, split ${fmtMs(splitMs)}; plain: one ${fmtMs(plainWhole)}, ` +
        `${blocks} in parallel ${fmtMs(plainSplit)}; per job: ${legs}`,
    );
    return [
      {
        id: '9',
        name: `@split ${blocks} over ${blocks} workers (${blocks * BLOCK_ADDRESSES} addresses, ${ctx.options.splitMsPerTarget} ms each)`,
        value: `${speedup.toFixed(1)}× faster than unsplit`,
        limit: `plain processes in parallel: ${limit.toFixed(1)}×`,
        ratio: ratio(speedup, limit),
        goal: '≥ 15×',
        verdict: verdict(speedup >= 15, speedup, limit),
      },
    ];
  } finally {
    await workers.stop();
    await mesh.stop();
  }
}
