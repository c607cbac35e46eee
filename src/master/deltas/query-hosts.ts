import {
  compareAbsentHost,
  compareHost,
  type CompareOptions,
  type HostDelta,
  type RunSide,
  type ScanSide,
} from '../../delta/index.ts';
import type { HistoryEntry } from './history-file.ts';
import { runRef, type DiffTarget, type StoreDelta } from './query.ts';
import type { LoadedRun } from './query-load.ts';

/**
 * `scanmesh diff [HOST] [--since D]`: a host's latest result against an earlier one, compared
 * again from the two results files with the delta rules. Pure, in two steps around the loader:
 * planHosts reads the history alone and says which attempts to load (runsNeeded), hostDeltas
 * compares what was loaded.
 */

export interface HostPlan {
  address: string;
  /** Position of the latest attempt that listed the host (up or down). */
  last: number;
  /** The result to compare with: the one before `last`; with --since, the latest by the cutoff. */
  prev: number | null;
  // Every attempt after `last` left the host out. nmap omits down hosts, so the newest of them
  // that finished and covered the host says it is gone now: they are loaded for their records.
}

/** One plan per host the history lists (or just `address`), in address order. */
export function planHosts(
  history: readonly HistoryEntry[],
  address: string | null,
  cutoff: number | null,
): HostPlan[] {
  const listed = new Map<string, number[]>();
  history.forEach((e, i) => {
    for (const a of new Set([...e.up, ...e.down])) {
      if (address !== null && a !== address) continue;
      const positions = listed.get(a) ?? [];
      positions.push(i);
      listed.set(a, positions);
    }
  });
  return [...listed]
    .sort(([a], [b]) => byAddress(a, b))
    .map(([a, positions]) => {
      const last = positions[positions.length - 1] as number;
      const prev =
        cutoff === null
          ? (positions[positions.length - 2] ?? null)
          : (positions.findLast((i) => (history[i]?.at ?? Infinity) <= cutoff) ?? null);
      return { address: a, last, prev };
    });
}

/**
 * What to load: each position with the hosts read from it (none: its record only). The records
 * of every attempt after the oldest `last`, to tell which left a host out because it was down.
 */
export function runsNeeded(
  history: readonly HistoryEntry[],
  plans: readonly HostPlan[],
): Map<number, Set<string>> {
  const needs = new Map<number, Set<string>>();
  const need = (pos: number, address?: string): void => {
    const set = needs.get(pos) ?? new Set<string>();
    if (address !== undefined) set.add(address);
    needs.set(pos, set);
  };
  for (const p of plans) {
    need(p.last, p.address);
    if (p.prev !== null) need(p.prev, p.address);
  }
  const oldest = plans.reduce((min, p) => Math.min(min, p.last), Infinity);
  for (let pos = oldest + 1; pos < history.length; pos++) need(pos);
  return needs;
}

export interface HostQuery {
  target: DiffTarget;
  cutoff: number | null;
  options: CompareOptions;
}

/**
 * Each plan's host now against its earlier result. "Now" is the newest attempt that saw the
 * host: its latest listing, or a later run that left it out but finished and covered it (then
 * host-down, by compareAbsentHost's rules). Without --since, a host gone now is compared with its
 * latest result (what it looked like before it went), any other with its previous one. With
 * --since, a host not seen since the cutoff has nothing new, and one first seen after it is a
 * baseline.
 */
export function hostDeltas(
  history: readonly HistoryEntry[],
  plans: readonly HostPlan[],
  runs: ReadonlyMap<number, LoadedRun>,
  query: HostQuery,
): StoreDelta {
  const run = (pos: number): LoadedRun => {
    const loaded = runs.get(pos);
    if (loaded === undefined) throw new RangeError(`attempt at ${pos} was not loaded`);
    return loaded;
  };
  const runSide = (pos: number): RunSide => ({
    meta: run(pos).record.meta,
    stats: run(pos).record.stats,
    job: (history[pos] as HistoryEntry).job,
  });
  const side = (pos: number, address: string): ScanSide => ({
    ...runSide(pos),
    host: run(pos).hosts.get(address) as ScanSide['host'],
  });
  const oldRuns = new Set<number>();
  const newRuns = new Set<number>();
  const hosts = plans.map((p): HostDelta => {
    const lastSide = side(p.last, p.address);
    const gone = goneIn(
      history.length,
      p.last,
      (pos) => !!compareAbsentHost(lastSide, runSide(pos)),
    );
    const now = gone ?? p.last;
    if (query.cutoff !== null && (history[now]?.at ?? Infinity) <= query.cutoff) {
      oldRuns.add(now);
      return unchanged(p.address);
    }
    const prevPos = gone !== undefined && query.cutoff === null ? p.last : p.prev;
    if (prevPos !== null) oldRuns.add(prevPos);
    newRuns.add(now);
    const prev = prevPos === null ? null : side(prevPos, p.address);
    if (gone === undefined) return compareHost(prev, lastSide, query.options);
    // Seen for the first time after the cutoff and gone again: nothing to report.
    if (prev === null) return unchanged(p.address);
    return compareAbsentHost(prev, runSide(gone), query.options) ?? unchanged(p.address);
  });
  const ref = (pos: number) => runRef(history[pos] as HistoryEntry, run(pos).record);
  const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b).map(ref);
  return {
    target: query.target,
    cutoff: query.cutoff,
    old: sorted(oldRuns),
    new: sorted(newRuns),
    hosts,
    compared: hosts.length,
  };
}

/** The newest position after `last` that shows the host gone, if any. */
function goneIn(length: number, last: number, shows: (pos: number) => boolean): number | undefined {
  for (let pos = length - 1; pos > last; pos--) if (shows(pos)) return pos;
  return undefined;
}

function unchanged(address: string): HostDelta {
  return { host: address, baseline: false, changes: [], noisy: false, noise: [] };
}

/** IPv4 numerically, then everything else (IPv6) as text: how people scan a host list. */
export function byAddress(a: string, b: string): number {
  const ka = ipv4Key(a);
  const kb = ipv4Key(b);
  if (ka !== null && kb !== null) return ka - kb;
  if (ka !== null || kb !== null) return ka !== null ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ipv4Key(address: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  return m === null ? null : m.slice(1).reduce((n, octet) => n * 256 + Number(octet), 0);
}
