import type { HostResult } from '../nmap/result.ts';

/**
 * Whether a scan saw the host up, down, or cannot say. Mostly nmap's own verdict, with one
 * correction: under `-Pn` nmap never calls a host down (`<status state="up" reason="user-set">`
 * is an assumption, not an observation), so a `-Pn` host that answered nothing at all is down as
 * far as that scan could see. nmap 7.93 writes a vanished host under `-Pn` exactly so: every port
 * filtered with reason no-response and no `<times>` (no round trip was ever measured).
 */
export interface SeenState {
  state: 'up' | 'down' | 'unknown';
  /** For people: nmap's reason, or ours. */
  why: string;
}

/** Port reasons that mean nothing came back from the host itself (a router's ICMP may have). */
const NO_SIGN_OF_LIFE = new Set(['no-response', 'host-unreach', 'net-unreach']);
const SILENT_STATES = new Set(['filtered', 'open|filtered']);

/** Our reason for a host a scan covered but did not list (nmap found it down and, without -v, omits it). */
export const NOT_LISTED = 'not-listed';

export function seenState(host: HostResult): SeenState {
  if (host.state === 'down') {
    return {
      state: 'down',
      why: host.reason === NOT_LISTED ? 'not listed' : host.reason || 'down',
    };
  }
  if (host.state === 'unknown') return { state: 'unknown', why: host.reason || 'unknown' };
  if (host.reason === 'user-set' && answeredNothing(host)) {
    return { state: 'down', why: 'no answer to any probe under -Pn' };
  }
  return { state: 'up', why: host.reason };
}

/** A host scan that probed ports, none of which (nor any timing probe) drew an answer. */
function answeredNothing(host: HostResult): boolean {
  const probedAny = host.ports.length > 0 || host.extraPorts.some((e) => e.count > 0);
  return (
    probedAny &&
    host.latencyMs === null &&
    host.ports.every((p) => NO_SIGN_OF_LIFE.has(p.reason)) &&
    host.extraPorts.every((e) => SILENT_STATES.has(e.state))
  );
}

/** A stand-in for a host a scan covered but did not list: compareHost reads it as down. */
export function absentHost(address: string): HostResult {
  return {
    address,
    addresses: [],
    hostnames: [],
    state: 'down',
    reason: NOT_LISTED,
    latencyMs: null,
    ports: [],
    extraPorts: [],
    os: [],
    scripts: [],
    startTime: null,
    endTime: null,
  };
}
