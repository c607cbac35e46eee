import type { ClHello } from '../../protocol/messages/cl-hello.ts';
import type { DataEnd } from '../../protocol/messages/data.ts';

/** What the master core's tests hand it: a made-up clock, CL_HELLOs and end parts. */

export const T0 = 1_700_000_000_000;

export function hello(worker: string, extra: Partial<ClHello> = {}): ClHello {
  return { kind: 'CL_HELLO', worker, nmap: '7.93', slots: 1, running: [], held: [], ...extra };
}

/** The end part of an attempt with `seq` host parts; a failure carries nmap's error. */
export function endPart(
  worker: string,
  job: string,
  attempt: number,
  seq: number,
  status: DataEnd['status'] = 'completed',
): DataEnd {
  return {
    kind: 'DATA',
    worker,
    job,
    attempt,
    seq,
    part: 'end',
    status,
    exitCode: status === 'completed' ? 0 : 1,
    error: status === 'completed' ? '' : 'nmap exploded',
    code: status === 'completed' ? '' : 'SCANMESH_NMAP_FAILED',
    meta: null,
    stats: null,
    startedAt: T0,
    finishedAt: T0 + 1500,
  };
}
