import {
  absentHost,
  compareAbsentHost,
  compareHost,
  scanCovers,
  seenState,
  type CompareOptions,
  type HostDelta,
  type ScanSide,
} from '../../delta/index.ts';
import type { HostResult } from '../../nmap/result.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { readStoredResult, type StoredResult } from '../result-files.ts';
import type { HostLookup, HostRef } from './host-index.ts';

export interface AttemptComparison {
  /** Hosts with at least one change, in the attempt's order, then hosts it left out. */
  hosts: HostDelta[];
  /**
   * What the history line records: the addresses seen up, and those seen down (listed but not up,
   * or left out by a finished run that covered them).
   */
  up: string[];
  down: string[];
  /** Earlier results that could not be read (a results file removed by hand): compared as new. */
  missing: string[];
}

/**
 * One completed attempt against each host's previous result (the delta rules are in src/delta).
 * Hosts the attempt lists are compared with their latest other result; hosts the index knows as up
 * that the attempt left out are compared as absent, which is `host-down` only when the attempt
 * finished and its targets covered them. Reads earlier results files; writes nothing.
 */
export async function compareAttempt(
  stateDir: string,
  index: HostLookup,
  record: AttemptRecord,
  hosts: readonly HostResult[],
  options: CompareOptions,
): Promise<AttemptComparison> {
  const files = new Map<string, Promise<StoredResult | null>>();
  const missing: string[] = [];
  const sideOf = async (ref: HostRef, address: string): Promise<ScanSide | null> => {
    const name = `${ref.job}~${ref.attempt}`;
    let file = files.get(name);
    if (!file) {
      file = readStoredResult(stateDir, ref.job, ref.attempt);
      files.set(name, file);
    }
    const stored = await file;
    // A host recorded down without being listed is one a finished run covered and left out.
    const host =
      stored?.hosts.find((h) => h.address === address) ??
      (stored && !ref.up ? absentHost(address) : undefined);
    if (!stored || !host) {
      missing.push(`${address} in ${name}`);
      return null;
    }
    return { host, meta: stored.record.meta, job: ref.job, stats: stored.record.stats };
  };

  const out: AttemptComparison = { hosts: [], up: [], down: [], missing };
  const listed = new Set<string>();
  for (const host of hosts) {
    // nmap lists a target given twice twice; one comparison per address (port-change-points.ts).
    if (listed.has(host.address)) continue;
    listed.add(host.address);
    (seenState(host).state === 'up' ? out.up : out.down).push(host.address);
    const ref = index.previous(host.address, record.job, record.attempt);
    const prev = ref ? await sideOf(ref, host.address) : null;
    const next: ScanSide = { host, meta: record.meta, job: record.job, stats: record.stats };
    keep(out.hosts, compareHost(prev, next, options));
  }

  const run = { meta: record.meta, job: record.job, stats: record.stats };
  // Walked live, not copied: the index gains this attempt only after we return (delta-stage.ts).
  for (const address of index.addresses()) {
    if (listed.has(address)) continue;
    const ref = index.previous(address, record.job, record.attempt);
    if (!ref?.up) continue;
    // Most known hosts lie outside a given run's targets: rule them out before reading any file.
    if (scanCovers(record.meta, { address, hostnames: [] }) === false) continue;
    const prev = await sideOf(ref, address);
    const delta = prev && compareAbsentHost(prev, run, options);
    if (!delta) continue;
    // Down from now on: the next run compares with this one, and says host-up if it is back.
    out.down.push(address);
    keep(out.hosts, delta);
  }
  return out;
}

function keep(list: HostDelta[], delta: HostDelta): void {
  if (delta.changes.length > 0) list.push(delta);
}
