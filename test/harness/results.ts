import type { HostResult, PortResult } from '../../src/nmap/result.ts';
import type { AttemptRecord } from '../../src/storage/attempt.ts';

/**
 * Builders for the result shapes tests write by hand. Every field has a plain default; a test
 * overrides exactly the fields its assertions are about.
 */
export function port(n: number, state: string, over: Partial<PortResult> = {}): PortResult {
  return {
    protocol: 'tcp',
    port: n,
    state,
    reason: 'syn-ack',
    service: 'ssh',
    product: '',
    version: '',
    extrainfo: '',
    cpe: [],
    scripts: [],
    ...over,
  };
}

export function host(address: string, over: Partial<HostResult> = {}): HostResult {
  return {
    address,
    addresses: [{ addr: address, type: 'ipv4', vendor: '' }],
    hostnames: [],
    state: 'up',
    reason: 'syn-ack',
    latencyMs: null,
    ports: [],
    extraPorts: [],
    os: [],
    scripts: [],
    startTime: null,
    endTime: null,
    ...over,
  };
}

export function attemptRecord(over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    job: 'job-1',
    jobSeq: 1,
    command: '-sT -p 80 127.0.0.1',
    attempt: 1,
    worker: 'w1',
    status: 'completed',
    exitCode: 0,
    error: '',
    code: '',
    meta: null,
    stats: null,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_001_000,
    hostCount: 0,
    timestampNs: '1700000000000001001',
    ...over,
  };
}
