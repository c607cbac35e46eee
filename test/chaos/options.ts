import { parseArgs } from 'node:util';

export type BrokerMode = 'embedded' | 'mosquitto';

export interface ChaosOptions {
  /** Distinct commands.txt lines, poison lines included. */
  jobs: number;
  workers: number;
  seed: number;
  /** The most the whole run may take, in seconds; what has not ended by then counts as lost. */
  durationS: number;
  broker: BrokerMode;
  /** Real nmap against listeners the runner opens on 127.0.0.1, instead of the fake. */
  realNmap: boolean;
  workerKills: number;
  masterKills: number;
  /** Stops and starts of the external broker (mosquitto mode only). */
  brokerRestarts: number;
  /** Seconds InfluxDB is down, once; 0 for no outage. */
  influxOutageS: number;
  /** Lines that fail on every attempt (crash, SIGSEGV, hang, bad XML; with real nmap: timeout). */
  poison: number;
  jobTimeoutS: number;
  maxAttempts: number;
  /** How long one fake scan takes (jittered). */
  fakeDelayMs: number;
  /** After the check, damage InfluxDB on purpose and make sure the checker notices. */
  selfTest: boolean;
  /** Keep the run dir (logs/, state dirs) even when the run passed. */
  keep: boolean;
  /** Progress output; the summary line is returned, not logged. */
  log: (line: string) => void;
}

/**
 * Everything not given follows from the size: about one worker kill per 35 jobs (58 for 2000),
 * three master kills, two broker restarts and a 22 s InfluxDB outage for a big run, fewer for a
 * small one.
 */
export function chaosOptions(given: Partial<ChaosOptions>): ChaosOptions {
  const jobs = given.jobs ?? 200;
  const big = jobs >= 500;
  const medium = jobs >= 50;
  const broker = given.broker ?? 'mosquitto';
  const realNmap = given.realNmap ?? false;
  return {
    jobs,
    workers: given.workers ?? 6,
    seed: given.seed ?? 1,
    durationS: given.durationS ?? (big ? 3600 : 600),
    broker,
    realNmap,
    workerKills: given.workerKills ?? Math.max(1, Math.ceil(jobs / 35)),
    masterKills: given.masterKills ?? (big ? 3 : medium ? 1 : 0),
    brokerRestarts:
      broker === 'mosquitto' ? (given.brokerRestarts ?? (big ? 2 : medium ? 1 : 0)) : 0,
    influxOutageS: given.influxOutageS ?? (big ? 22 : medium ? 5 : 0),
    poison: given.poison ?? (realNmap ? 1 : Math.max(4, Math.round(jobs / 200))),
    jobTimeoutS: given.jobTimeoutS ?? (realNmap ? 10 : 15),
    maxAttempts: given.maxAttempts ?? 3,
    fakeDelayMs: given.fakeDelayMs ?? 50,
    selfTest: given.selfTest ?? false,
    keep: given.keep ?? false,
    log: given.log ?? ((line) => console.error(line)),
  };
}

const USAGE = `usage: node --import tsx test/chaos/chaos.ts [--jobs N] [--workers N] [--seed N]
  [--duration S] [--broker embedded|mosquitto] [--real-nmap] [--worker-kills N] [--master-kills N]
  [--broker-restarts N] [--influx-outage S] [--poison N] [--job-timeout S] [--max-attempts N]
  [--fake-delay MS] [--self-test] [--keep]`;

/** The command line of `npm run chaos`; numbers are checked, unknown flags refused. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      jobs: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      duration: { type: 'string' },
      broker: { type: 'string' },
      'real-nmap': { type: 'boolean' },
      'worker-kills': { type: 'string' },
      'master-kills': { type: 'string' },
      'broker-restarts': { type: 'string' },
      'influx-outage': { type: 'string' },
      poison: { type: 'string' },
      'job-timeout': { type: 'string' },
      'max-attempts': { type: 'string' },
      'fake-delay': { type: 'string' },
      'self-test': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error(USAGE);
  const num = (name: keyof typeof values, min: number): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    return n;
  };
  if (
    values.broker !== undefined &&
    values.broker !== 'embedded' &&
    values.broker !== 'mosquitto'
  ) {
    throw new Error(`--broker must be embedded or mosquitto\n${USAGE}`);
  }
  const given: Partial<ChaosOptions> = {
    jobs: num('jobs', 1),
    workers: num('workers', 1),
    seed: num('seed', 0),
    durationS: num('duration', 10),
    broker: values.broker as BrokerMode | undefined,
    realNmap: values['real-nmap'],
    workerKills: num('worker-kills', 0),
    masterKills: num('master-kills', 0),
    brokerRestarts: num('broker-restarts', 0),
    influxOutageS: num('influx-outage', 0),
    poison: num('poison', 0),
    jobTimeoutS: num('job-timeout', 1),
    maxAttempts: num('max-attempts', 1),
    fakeDelayMs: num('fake-delay', 0),
    selfTest: values['self-test'],
    keep: values.keep,
  };
  // Absent flags stay absent, so that chaosOptions derives them from the size.
  for (const k of Object.keys(given) as (keyof ChaosOptions)[])
    if (given[k] === undefined) delete given[k];
  return chaosOptions(given);
}
