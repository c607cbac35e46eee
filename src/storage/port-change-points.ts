import type { IPoint } from 'influx';
import type { Change } from '../delta/changes.ts';
import type { AttemptRecord } from './attempt.ts';
import { MEASUREMENT, tagValue } from './points.ts';

/**
 * Delta changes → `port_change` points (pure). One point per change, at the new attempt's
 * timestamp: all changes of one job share it and differ by their tags. Two changes with the same
 * tags (host, port, protocol, change) cannot come out of one job: compareHost emits at most one
 * change per kind for a port (a state change excludes a service change on that port; one script
 * change per port) and at most one of each host-level kind (baseline, host-up or host-down,
 * os-changed, script-changed), and a job compares each host once. The last holds because
 * the caller compares each address once per job — nmap lists a target given twice twice, and
 * compareScans keeps the first; the master must do the same, or the second point overwrites the
 * first in InfluxDB.
 */

export const PORT_CHANGE_MEASUREMENT = MEASUREMENT.portChange;

/** Tag value for host-level changes' port and protocol. */
export const HOST_LEVEL = '-';

export function portChangePoints(
  rec: Pick<AttemptRecord, 'timestampNs'>,
  changes: readonly Change[],
): IPoint[] {
  return changes.map((c) => ({
    measurement: PORT_CHANGE_MEASUREMENT,
    tags: {
      host: tagValue(c.host),
      port: c.port === null ? HOST_LEVEL : String(c.port),
      protocol: c.protocol === null ? HOST_LEVEL : tagValue(c.protocol),
      change: c.change,
    },
    fields: {
      before: c.before,
      after: c.after,
      job: c.job,
      previous_job: c.previousJob,
      noisy: c.noisy ? 1 : 0,
    },
    timestamp: rec.timestampNs,
  }));
}
