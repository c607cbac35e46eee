import type { HostResult, RunStats, ScanMeta } from '../nmap/result.ts';
import type { CompareOptions, HostDelta, ScanSide } from './changes.ts';
import { compareAbsentHost, compareHost } from './compare.ts';
import { scanCovers } from './coverage.ts';
import { absentHost } from './host-state.ts';

/** A whole run, as parseNmapXml returns it, named for the report (a file name or a job id). */
export interface ParsedScan {
  meta: ScanMeta | null;
  hosts: HostResult[];
  stats: RunStats | null;
  job?: string;
}

/** Which run a side of the delta is, for the report's header. */
export interface ScanHeader {
  job: string;
  nmapVersion: string;
  args: string;
  /** Unix seconds nmap started; null without a header. */
  start: number | null;
}

export interface ScanDelta {
  old: ScanHeader;
  new: ScanHeader;
  /** Every host compared, in the new scan's order, then hosts only the old scan had. */
  hosts: HostDelta[];
  /** Hosts that could not be compared, and why. */
  skipped: { host: string; reason: string }[];
}

/**
 * Two runs, host by host (matched by primary address) with compareHost's rules. A host only in
 * the new run is `host-up` when the old run finished and covered it (it was down then), else a
 * baseline. A host only in the old run is `host-down` when the new run finished and covered it
 * (see compareAbsentHost), else skipped with the reason. A host nmap listed twice (a target
 * given twice without --unique) is compared once, with its first result.
 */
export function compareScans(
  old: ParsedScan,
  next: ParsedScan,
  options: CompareOptions = {},
): ScanDelta {
  const oldJob = old.job ?? 'old';
  const newJob = next.job ?? 'new';
  const side = (scan: ParsedScan, job: string, host: HostResult): ScanSide => ({
    host,
    meta: scan.meta,
    job,
    stats: scan.stats,
  });
  const before = firstByAddress(old.hosts);
  const after = firstByAddress(next.hosts);
  const hosts: HostDelta[] = [];
  const skipped: ScanDelta['skipped'] = [];
  for (const [address, host] of after) {
    const prevHost = before.get(address);
    let prev: ScanSide | null = prevHost === undefined ? null : side(old, oldJob, prevHost);
    if (prev === null && finished(old.stats) && scanCovers(old.meta, host) === true) {
      prev = side(old, oldJob, absentHost(address));
    }
    hosts.push(compareHost(prev, side(next, newJob, host), options));
  }
  for (const [address, host] of before) {
    if (after.has(address)) continue;
    const delta = compareAbsentHost(side(old, oldJob, host), { ...next, job: newJob }, options);
    if (delta !== null) hosts.push(delta);
    else skipped.push({ host: address, reason: whyNotCompared(next, host) });
  }
  return { old: header(old.meta, oldJob), new: header(next.meta, newJob), hosts, skipped };
}

function header(meta: ScanMeta | null, job: string): ScanHeader {
  return {
    job,
    nmapVersion: meta?.nmapVersion ?? '',
    args: meta?.args ?? '',
    start: meta?.start ?? null,
  };
}

function finished(stats: RunStats | null): boolean {
  return stats !== null && stats.exit === 'success';
}

function whyNotCompared(next: ParsedScan, host: HostResult): string {
  if (!finished(next.stats)) return 'only in the old scan, and the new scan did not finish';
  return scanCovers(next.meta, host) === false
    ? "only in the old scan, outside the new scan's targets"
    : "only in the old scan, and the new scan's targets cannot be read";
}

function firstByAddress(hosts: readonly HostResult[]): Map<string, HostResult> {
  const map = new Map<string, HostResult>();
  for (const h of hosts) if (!map.has(h.address)) map.set(h.address, h);
  return map;
}
