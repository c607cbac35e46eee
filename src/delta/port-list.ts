import { ScanmeshError } from '../errors.ts';

/**
 * nmap's port range lists (`<scaninfo services="1-1000,8080">`) as sorted, merged ranges that
 * can be asked "is this port in?" without expanding 65,536 numbers per host.
 */

export interface PortRange {
  lo: number;
  hi: number;
}

/** Sorted, non-overlapping, non-adjacent ranges. */
export type PortRanges = readonly PortRange[];

/** The letters of nmap's `-p T:80,U:53` syntax, by protocol. */
const PREFIX: Readonly<Record<string, string>> = { T: 'tcp', U: 'udp', S: 'sctp', P: 'ip' };

const ITEM = /^(?:([TUSP]):)?([0-9]{1,5})(?:-([0-9]{1,5}))?$/;

function bad(text: string, why: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_XML', `port list "${text}" ${why}`);
}

/**
 * Reads a range list for one protocol. nmap 7.93 writes plain lists in `<scaninfo>` (one element
 * per protocol), but a `T:`/`U:`/`S:`/`P:` prefix is honoured the way `-p` reads it: it applies
 * to its item and every unprefixed item after it, and items of another protocol are skipped.
 * Throws SCANMESH_BAD_XML for anything else, since it came from nmap's XML.
 */
export function parsePortList(text: string, protocol: string): PortRanges {
  const ranges: PortRange[] = [];
  if (text.trim() === '') return ranges;
  let current: string | null = null;
  for (const item of text.split(',')) {
    const m = ITEM.exec(item.trim());
    if (m === null) throw bad(text, `has an item nmap does not write: "${item}"`);
    if (m[1] !== undefined) current = PREFIX[m[1]] ?? null;
    if (current !== null && current !== protocol) continue;
    const lo = Number(m[2]);
    const hi = m[3] === undefined ? lo : Number(m[3]);
    const max = protocol === 'ip' ? 255 : 65_535;
    if (lo > hi || hi > max) throw bad(text, `has an impossible range "${item}"`);
    ranges.push({ lo, hi });
  }
  return mergeRanges(ranges);
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: readonly PortRange[]): PortRanges {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo);
  const merged: PortRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else merged.push({ lo: r.lo, hi: r.hi });
  }
  return merged;
}

/** Binary search: ranges are sorted and disjoint. */
export function inRanges(ranges: PortRanges, port: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid] as PortRange;
    if (port < r.lo) hi = mid - 1;
    else if (port > r.hi) lo = mid + 1;
    else return true;
  }
  return false;
}

export function countPorts(ranges: PortRanges): number {
  return ranges.reduce((n, r) => n + r.hi - r.lo + 1, 0);
}
