import type { DataEnd, DataHost } from '../../src/protocol/messages/data.ts';

/** A realistic DATA host part (one open port) for spool tests and the spool crash child. */
export function hostPart(seq: number, job = 'j-crash-1', attempt = 1): DataHost {
  return {
    kind: 'DATA',
    worker: 'w-test',
    job,
    attempt,
    seq,
    part: 'host',
    host: {
      address: `10.0.${(seq >> 8) & 255}.${seq & 255}`,
      addresses: [{ addr: `10.0.${(seq >> 8) & 255}.${seq & 255}`, type: 'ipv4', vendor: '' }],
      hostnames: [],
      state: 'up',
      reason: 'syn-ack',
      latencyMs: 0.4,
      ports: [
        {
          protocol: 'tcp',
          port: 22,
          state: 'open',
          reason: 'syn-ack',
          service: 'ssh',
          product: 'OpenSSH',
          version: '9.6',
          extrainfo: '',
          cpe: ['cpe:/a:openbsd:openssh:9.6'],
          scripts: [],
        },
      ],
      extraPorts: [{ state: 'closed', count: 999 }],
      os: [],
      scripts: [],
      startTime: 1_700_000_000,
      endTime: 1_700_000_001,
    },
  };
}

/** The closing part of an attempt with `hosts` host parts. */
export function endPart(hosts: number, job = 'j-crash-1', attempt = 1): DataEnd {
  return {
    kind: 'DATA',
    worker: 'w-test',
    job,
    attempt,
    seq: hosts,
    part: 'end',
    status: 'completed',
    exitCode: 0,
    error: '',
    code: '',
    meta: null,
    stats: null,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_002_000,
  };
}
