import { parseArgs } from 'node:util';

/** Sizes of every figure. `--quick` picks the small set; any size option overrides it. */
export interface BenchOptions {
  quick: boolean;
  /** Figures to run (1-9); all by default. */
  only: number[];
  /** 1: zero-work jobs timed one at a time. */
  latencyJobs: number;
  /** 2: simulated workers and jobs for dispatch throughput. */
  dispatchWorkers: number;
  dispatchJobs: number;
  /** 3: points written through the pipeline (and raw). */
  ingestPoints: number;
  /** 4: size of the generated many-host nmap XML, MB. */
  xmlMb: number;
  /** 5: mesh sizes of simulated workers, and the hello interval there, s. */
  workersScale: number[];
  scaleHelloS: number;
  scaleRounds: number;
  /** 6: worker counts, and 1 s jobs per worker. */
  speedup: number[];
  speedupJobsPerWorker: number;
  /** 7: repetitions of the real-nmap scan, each way. */
  nmapReps: number;
  /** 8: distinct -sV commands of the seed workload. */
  seedCommands: number;
  /** 9: blocks of the split job, and the fake nmap's sleep per target address, ms. */
  splitBlocks: number;
  splitMsPerTarget: number;
  /** Keep the temp dir (state dirs, journals) for a look afterwards. */
  keep: boolean;
}

const FULL: Omit<BenchOptions, 'quick' | 'only' | 'keep'> = {
  latencyJobs: 200,
  dispatchWorkers: 200,
  dispatchJobs: 5000,
  ingestPoints: 100_000,
  xmlMb: 100,
  workersScale: [1000, 10_000],
  scaleHelloS: 5,
  scaleRounds: 3,
  speedup: [1, 10, 100],
  speedupJobsPerWorker: 3,
  nmapReps: 7,
  seedCommands: 20,
  splitBlocks: 20,
  splitMsPerTarget: 100,
};

/** Under two minutes on two cores, every figure kept. */
const QUICK: typeof FULL = {
  latencyJobs: 60,
  dispatchWorkers: 200,
  dispatchJobs: 600,
  ingestPoints: 20_000,
  xmlMb: 20,
  workersScale: [1000],
  scaleHelloS: 2,
  scaleRounds: 2,
  speedup: [1, 10, 100],
  speedupJobsPerWorker: 2,
  nmapReps: 3,
  seedCommands: 10,
  splitBlocks: 20,
  splitMsPerTarget: 50,
};

const USAGE = `usage: node --import tsx test/bench/bench.ts [--quick] [--only 1,2,...] [--keep]
  [--latency-jobs N] [--dispatch-workers N] [--dispatch-jobs N] [--ingest-points N] [--xml-mb N]
  [--workers-scale 1000,10000] [--scale-hello S] [--scale-rounds N] [--speedup 1,10,100]
  [--speedup-jobs N] [--nmap-reps N] [--seed-commands N] [--split-blocks N] [--split-ms N]`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
      only: { type: 'string' },
      'latency-jobs': { type: 'string' },
      'dispatch-workers': { type: 'string' },
      'dispatch-jobs': { type: 'string' },
      'ingest-points': { type: 'string' },
      'xml-mb': { type: 'string' },
      'workers-scale': { type: 'string' },
      'scale-hello': { type: 'string' },
      'scale-rounds': { type: 'string' },
      speedup: { type: 'string' },
      'speedup-jobs': { type: 'string' },
      'nmap-reps': { type: 'string' },
      'seed-commands': { type: 'string' },
      'split-blocks': { type: 'string' },
      'split-ms': { type: 'string' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const base = values.quick ? QUICK : FULL;
  const num = (key: keyof typeof values, fallback: number) =>
    values[key] === undefined ? fallback : positive(String(key), values[key] as string);
  const list = (key: keyof typeof values, fallback: number[]) =>
    values[key] === undefined
      ? fallback
      : String(values[key])
          .split(',')
          .map((v) => positive(String(key), v));
  return {
    quick: values.quick === true,
    keep: values.keep === true,
    only: list('only', [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    latencyJobs: num('latency-jobs', base.latencyJobs),
    dispatchWorkers: num('dispatch-workers', base.dispatchWorkers),
    dispatchJobs: num('dispatch-jobs', base.dispatchJobs),
    ingestPoints: num('ingest-points', base.ingestPoints),
    xmlMb: num('xml-mb', base.xmlMb),
    workersScale: list('workers-scale', base.workersScale),
    scaleHelloS: num('scale-hello', base.scaleHelloS),
    scaleRounds: num('scale-rounds', base.scaleRounds),
    speedup: list('speedup', base.speedup),
    speedupJobsPerWorker: num('speedup-jobs', base.speedupJobsPerWorker),
    nmapReps: num('nmap-reps', base.nmapReps),
    seedCommands: num('seed-commands', base.seedCommands),
    splitBlocks: num('split-blocks', base.splitBlocks),
    splitMsPerTarget: num('split-ms', base.splitMsPerTarget),
  };
}

function positive(key: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${key}: expected a positive number, got "${raw}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
