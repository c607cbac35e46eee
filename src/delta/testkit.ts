import type { HostResult, PortResult, RunStats, ScanMeta } from '../nmap/result.ts';
import type { ScanSide } from './changes.ts';

/** Builders for delta tests: a result with nothing in it, and what each test overrides. */

export function port(n: number, state: string, over: Partial<PortResult> = {}): PortResult {
  return {
    protocol: 'tcp',
    port: n,
    state,
    reason: state === 'open' ? 'syn-ack' : state === 'closed' ? 'reset' : 'no-response',
    service: '',
    product: '',
    version: '',
    extrainfo: '',
    cpe: [],
    scripts: [],
    ...over,
  };
}

export function host(over: Partial<HostResult> = {}): HostResult {
  return {
    address: '10.0.0.1',
    addresses: [{ addr: over.address ?? '10.0.0.1', type: 'ipv4', vendor: '' }],
    hostnames: [],
    state: 'up',
    reason: 'syn-ack',
    latencyMs: 0.2,
    ports: [],
    extraPorts: [],
    os: [],
    scripts: [],
    startTime: null,
    endTime: null,
    ...over,
  };
}

/** A header: `services` per protocol, e.g. { tcp: '1-1000' }; args are nmap's own line. */
export function meta(services: Record<string, string>, args = 'nmap -sS 10.0.0.1'): ScanMeta {
  return {
    nmapVersion: '7.93',
    args,
    start: 1_795_268_897,
    scanInfo: Object.entries(services).map(([protocol, list]) => ({
      type: protocol === 'udp' ? 'udp' : 'syn',
      protocol,
      numServices: 0,
      services: list,
    })),
  };
}

export function stats(over: Partial<RunStats> = {}): RunStats {
  return {
    end: 1_795_268_900,
    elapsedS: 3,
    exit: 'success',
    errorMessage: '',
    summary: '',
    hostsUp: 1,
    hostsDown: 0,
    hostsTotal: 1,
    ...over,
  };
}

export function side(h: HostResult, m: ScanMeta | null, job: string): ScanSide {
  return { host: h, meta: m, job };
}
