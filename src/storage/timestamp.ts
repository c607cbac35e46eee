/**
 * InfluxDB timestamps for scanmesh points, in nanoseconds as decimal strings. Today's Unix time in
 * nanoseconds (~1.7e18) is far beyond 2^53, so these values are computed with BigInt and never pass
 * through a JS number.
 */

const NS_PER_S = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
/** jobSeq occupies the microsecond digits (…000 to …999 999 000 ns) of the timestamp. */
const JOB_SEQ_SLOTS = 1_000_000;
/** attempt occupies the nanosecond digits (0 to 999). */
const ATTEMPT_SLOTS = 1_000;

/**
 * The timestamp of every point of one job attempt: the second nmap started, plus the job's
 * sequence number in the microsecond digits and the attempt number in the nanosecond digits.
 *
 * Why not just the start second: InfluxDB identifies a point by measurement + tag set + time, and a
 * second write of the same identity silently replaces the first. Two scans of the same host by the
 * same worker that start in the same second (two jobs, or a retry of one job) would have the same
 * `host`/`port` series and the same time, and the later one would overwrite the earlier. Putting
 * jobSeq and attempt below the second keeps them apart (for up to a million jobs and 1000 attempts
 * in flight per second), while rewriting the same attempt gives the same time again, so a retried
 * write overwrites its own points instead of adding copies. The offset is under one millisecond of
 * real time, so it never moves a point into another second.
 */
export function attemptTimestampNs(startUnixS: number, jobSeq: number, attempt: number): string {
  requireNonNegativeInteger('startUnixS', startUnixS);
  requireNonNegativeInteger('jobSeq', jobSeq);
  requireNonNegativeInteger('attempt', attempt);
  const ns =
    BigInt(startUnixS) * NS_PER_S +
    BigInt(jobSeq % JOB_SEQ_SLOTS) * 1_000n +
    BigInt(attempt % ATTEMPT_SLOTS);
  return ns.toString();
}

/** Unix milliseconds (e.g. `Date.now()`) as a nanosecond timestamp, for telemetry points. */
export function unixMsToNs(unixMs: number): string {
  requireNonNegativeInteger('unixMs', unixMs);
  return (BigInt(unixMs) * NS_PER_MS).toString();
}

function requireNonNegativeInteger(name: string, value: number): void {
  // BigInt() of a fraction throws anyway, but with a message that does not name the argument.
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}
