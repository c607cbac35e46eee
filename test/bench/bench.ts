/**
 * The benchmark of issue 7: every figure beside the limit it is measured against in the same run.
 * Starts what it needs (influxd, embedded broker, masters, workers, simulated workers) and prints
 * one table. Run: node --import tsx test/bench/bench.ts [--quick] [--help for sizes]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../harness/influxd.ts';
import { figure1 } from './figures/f1-control-plane.ts';
import { figure2 } from './figures/f2-dispatch.ts';
import { figure3 } from './figures/f3-ingest.ts';
import { figure4 } from './figures/f4-parsing.ts';
import { figure5 } from './figures/f5-scale.ts';
import { figure6 } from './figures/f6-speedup.ts';
import { figure7 } from './figures/f7-real-nmap.ts';
import { figure8 } from './figures/f8-seed-workload.ts';
import { figure9 } from './figures/f9-split.ts';
import type { BenchContext } from './lib/context.ts';
import { machineLoad } from './lib/load.ts';
import { describeMachine } from './machine.ts';
import { parseOptions } from './options.ts';
import { errorRow, renderTable, type Row } from './table.ts';

type Figure = (ctx: BenchContext) => Promise<Row[]>;

const FIGURES: [number, string, Figure][] = [
  [1, 'control-plane overhead', figure1],
  [2, 'dispatch throughput', figure2],
  [3, 'ingest', figure3],
  [4, 'parsing', figure4],
  [5, 'scale', figure5],
  [6, 'speed-up', figure6],
  [7, 'real nmap', figure7],
  [8, 'seed workload', figure8],
  [9, 'split job', figure9],
];

const options = parseOptions(process.argv.slice(2));
const started = Date.now();
const loadAtStart = machineLoad();
const root = await mkdtemp(join(tmpdir(), 'scanmesh-bench-'));
const influxd = await startInfluxd();
const rows: Row[] = [];
try {
  for (const [n, name, figure] of FIGURES) {
    if (!options.only.includes(n)) continue;
    const log = (message: string) =>
      console.error(`[${((Date.now() - started) / 1000).toFixed(1)}s] fig ${n}: ${message}`);
    const ctx: BenchContext = {
      options,
      influxd,
      log,
      scratch: async (dir) => {
        const path = join(root, dir);
        await mkdir(path, { recursive: true });
        return path;
      },
    };
    log(`${name}…`);
    const t0 = Date.now();
    try {
      rows.push(...(await figure(ctx)));
    } catch (err) {
      log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      rows.push(errorRow(String(n), name, err));
    }
    log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s (load average ${machineLoad()})`);
  }
} finally {
  await influxd.stop();
  if (!options.keep) await rm(root, { recursive: true, force: true });
  else console.error(`kept ${root}`);
}

console.log(describeMachine());
console.log(
  `run: ${options.quick ? '--quick' : 'full'}, ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; machine load average ` +
    `${loadAtStart} at start, ${machineLoad()} at end (at start: other work sharing the machine)`,
);
console.log(renderTable(rows));
// Clients and timers of the figures are closed, but one stuck handle must not hang a CI job.
process.exit(0);
