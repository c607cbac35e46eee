import type { Verdict } from './checker.ts';
import type { FaultCounts } from './faults.ts';
import type { BrokerMode } from './options.ts';

/** True when the run kept the promise: nothing lost, nothing twice, nothing else wrong. */
export function passed(v: Verdict, unexpectedExits: readonly string[]): boolean {
  return (
    v.lost === 0 && v.duplicated === 0 && v.problems.length === 0 && unexpectedExits.length === 0
  );
}

/**
 * The last line of a run, e.g.
 * `chaos: jobs=2000 completed=1990 failed=10 faults: worker_kills=57 master_kills=3
 * broker_restarts=2 influx_outages=1(21s) lost=0 duplicated=0 — OK` (one line). In embedded mode
 * the broker lives in the master, so every master kill is also a broker restart.
 */
export function summaryLine(
  v: Verdict,
  f: FaultCounts,
  broker: BrokerMode,
  unexpectedExits: readonly string[],
): string {
  const brokerRestarts = broker === 'embedded' ? f.masterKills : f.brokerRestarts;
  const outage = f.influxOutages > 0 ? `${f.influxOutages}(${f.influxOutageS}s)` : '0';
  const others = v.problems.length - v.lost - v.duplicated + unexpectedExits.length;
  const verdict = passed(v, unexpectedExits)
    ? 'OK'
    : `FAILED${others > 0 ? ` (${others} other problems)` : ''}`;
  return (
    `chaos: jobs=${v.jobs} completed=${v.completed} failed=${v.failed} ` +
    `faults: worker_kills=${f.workerKills} master_kills=${f.masterKills} ` +
    `broker_restarts=${brokerRestarts}${broker === 'embedded' ? '(embedded)' : ''} ` +
    `influx_outages=${outage} lost=${v.lost} duplicated=${v.duplicated} — ${verdict}`
  );
}
