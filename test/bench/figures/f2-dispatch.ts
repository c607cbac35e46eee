import type { BenchContext } from '../lib/context.ts';
import { loopbackBroker, makespan, startMesh } from '../lib/mesh.ts';
import { rawExchangeRate } from '../lib/raw-mqtt.ts';
import { shares, startSims } from '../lib/sims.ts';
import { loadWindow, machineLoad } from '../lib/load.ts';
import { fmtMs, fmtNum, median, sum, waitUntil } from '../lib/stats.ts';
import { ratio, verdict, type Row } from '../table.ts';

/** QoS 1 messages of one zero-work job with one host: JOB, DATA host, DATA end, two DATA_ACKs. */
const MESSAGES_PER_JOB = 5;

/**
 * Figure 2: zero-work jobs per second through one master and 200 simulated workers, first
 * assignment to last result filed, against the same broker passing the same 5-message exchange
 * between the same clients with nothing behind it.
 */
export async function figure2(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f2');
  const { dispatchWorkers: n, dispatchJobs: m } = ctx.options;
  const broker = await loopbackBroker();
  try {
    const echo = await startSims(broker.port, shares(n, 2), {
      prefix: 'e',
      mode: 'echo',
      persistent: false,
    });
    const ids = Array.from({ length: n }, (_, i) => `e${i + 1}`);
    const raw = await rawExchangeRate(broker, ids, ctx.options.quick ? 2000 : 5000);
    await echo.stop();
    ctx.log(`raw: ${fmtNum(raw.messagesPerS)} QoS 1 msg/s`);

    const mesh = await startMesh({
      dir,
      influx: { url: ctx.influxd.url, database: 'bench_f2' },
      broker,
    });
    const sims = await startSims(broker.port, shares(n, 2), {
      prefix: 's',
      mode: 'worker',
      persistent: true,
    });
    await waitUntil(() => mesh.master.core.state.workers.size >= n, `${n} workers known`, 60_000);
    await mesh.addCommands(
      Array.from(
        { length: m },
        (_, i) => `-sT -p ${1 + (i % 65_000)} 127.0.${1 + Math.floor(i / 65_000)}.1`,
      ),
    );
    const load = loadWindow();
    await mesh.waitFinished(m, 600_000);
    const busy = load.stop();
    const seconds = makespan(mesh) / 1000;
    await sims.stop();
    await mesh.stop();
    const jobsPerS = m / seconds;
    const limit = raw.exchangesPerS;
    ctx.log(
      `${m} jobs in ${seconds.toFixed(2)} s; ${mesh.fileMethod} median ${fmtMs(median(mesh.fileMs))}, ` +
        `${fmtMs(sum(mesh.fileMs))} in all; master process: event loop busy ` +
        `${(busy.elu * 100).toFixed(0)} %, CPU ${((busy.cpuMs / busy.wallMs) * 100).toFixed(0)} % ` +
        `of a core, ${fmtMs(busy.cpuMs / m)} per job (broker included); load average ${machineLoad()}; problems: ${mesh.problems.length} ` +
        mesh.problems.slice(0, 2).join(' '),
    );
    return [
      {
        id: '2',
        name: `dispatch throughput, ${n} simulated workers, ${m} zero-work jobs`,
        value: `${fmtNum(jobsPerS)} jobs/s`,
        limit: `${fmtNum(raw.messagesPerS)} msg/s ÷ ${MESSAGES_PER_JOB} = ${fmtNum(limit)} jobs/s`,
        ratio: ratio(jobsPerS, limit),
        goal: '≥ 0.50',
        verdict: verdict(jobsPerS >= 0.5 * limit, jobsPerS, limit),
      },
    ];
  } finally {
    await broker.close();
  }
}
