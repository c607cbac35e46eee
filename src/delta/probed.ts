import type { HostResult, PortResult, ScanMeta } from '../nmap/result.ts';
import {
  countPorts,
  mergeRanges,
  parsePortList,
  type PortRange,
  type PortRanges,
} from './port-list.ts';

/**
 * What one scan actually probed on one host, and what it says about each probed port. Two scans
 * are only compared over ports both probed: a port outside the earlier scan's range is not "new",
 * one outside the later scan's range is not "closed".
 */

/** Probed ports by protocol. */
export type Probed = ReadonlyMap<string, PortRanges>;

/**
 * The ports of each protocol the scan probed: its `<scaninfo>` range lists, plus every port it
 * reported (nmap lists nothing it did not probe, so a listed port outside scaninfo still counts).
 * Without a header only the listed ports are known to have been probed.
 */
export function probedPorts(meta: ScanMeta | null, host: HostResult): Probed {
  const byProtocol = new Map<string, PortRange[]>();
  const add = (protocol: string, ranges: readonly PortRange[]): void => {
    const list = byProtocol.get(protocol) ?? [];
    list.push(...ranges);
    byProtocol.set(protocol, list);
  };
  for (const info of meta?.scanInfo ?? []) {
    add(info.protocol, parsePortList(info.services, info.protocol));
  }
  for (const p of host.ports) add(p.protocol, [{ lo: p.port, hi: p.port }]);
  const probed = new Map<string, PortRanges>();
  for (const [protocol, ranges] of byProtocol) probed.set(protocol, mergeRanges(ranges));
  return probed;
}

/**
 * How many probed ports the host's result leaves without a state. A finished port scan accounts
 * for every probed port, listed one by one or counted in `<extraports>`; nmap 7.93 writes a host
 * it gave up on (`--host-timeout`) as `<host timedout="true">` with no `<ports>` at all, which is
 * how that shows here (HostResult has no timedout field). Hosts that are not up were not
 * port-scanned, so nothing is missing from them.
 */
export function missingPorts(
  probed: Probed,
  host: HostResult,
): { probed: number; missing: number } {
  let total = 0;
  for (const ranges of probed.values()) total += countPorts(ranges);
  if (host.state !== 'up') return { probed: total, missing: 0 };
  const accounted = host.ports.length + host.extraPorts.reduce((n, e) => n + e.count, 0);
  return { probed: total, missing: Math.max(0, total - accounted) };
}

/** One probed port as one scan saw it. */
export interface PortView {
  /**
   * The states the port may be in: one when nmap listed it, or when it is unlisted and the host
   * has one `<extraports>` state; several when it has more (HostResult keeps extraports states
   * and counts but not which ports each holds, so an unlisted port is any of them).
   */
  states: readonly string[];
  /** The port as nmap listed it, or null when it falls under `<extraports>`. */
  listed: PortResult | null;
  /** The state rests on getting no answer, which packet loss can fake: see noise.ts. */
  silent: boolean;
}

/** States nmap concludes from silence when no ICMP error names a reason. */
const SILENT_STATES = new Set(['filtered', 'open|filtered', 'closed|filtered']);

/**
 * The view of a probed port, or null when the scan says nothing about it: unlisted while the
 * host's result is incomplete (see missingPorts) or has no `<extraports>`.
 */
export function viewPort(
  host: HostResult,
  listed: PortResult | undefined,
  complete: boolean,
): PortView | null {
  if (listed !== undefined) {
    return { states: [listed.state], listed, silent: listed.reason === 'no-response' };
  }
  if (!complete || host.extraPorts.length === 0) return null;
  const states = [...new Set(host.extraPorts.map((e) => e.state))].sort();
  // Folded ports carry no reason here (HostResult drops `<extrareasons>`). A folded filtered port
  // is usually `no-response`, sometimes an ICMP error; not knowing which, count it as silence:
  // wrongly marking a change noisy costs less than wrongly vouching for it.
  return { states, listed: null, silent: states.some((s) => SILENT_STATES.has(s)) };
}

/** `protocol/port` → the listed port, for lookups while walking two results. */
export function listedIndex(host: HostResult): Map<string, PortResult> {
  return new Map(host.ports.map((p) => [portKey(p.protocol, p.port), p]));
}

export function portKey(protocol: string, port: number): string {
  return `${protocol}/${port}`;
}
