import type { HostResult } from '../../nmap/result.ts';
import type { Cancel } from '../../protocol/messages/cancel.ts';
import type { ClHello } from '../../protocol/messages/cl-hello.ts';
import type { Data } from '../../protocol/messages/data.ts';
import type { Job } from '../../protocol/messages/job.ts';
import type { NmapOutcome } from '../../nmap/runner.ts';

export type { Cancel, HostResult, Job, NmapOutcome };

export interface RunningAttempt {
  job: Job;
  /** Next DATA seq for this attempt: host parts count up from 0, the end part takes the last. */
  nextSeq: number;
  startedAt: number;
}

export type WorkerLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What the worker core asks its shell to do, in order. A DATA is spooled (durably) before it is
 * published, so a crash between the two loses nothing: the spool is resent on start. `send`
 * publishes a part the core still holds (it follows that part's `spool`); `sendSpooled` one whose
 * body is only on disk, read back from the spool. Sends leave in the order they are emitted.
 */
export type WorkerEffect =
  | { type: 'hello'; message: ClHello }
  | { type: 'spool'; message: Data }
  | { type: 'send'; message: Data }
  | { type: 'sendSpooled'; job: string; attempt: number; seq: number }
  | { type: 'forget'; job: string; attempt: number; seq: number }
  /** Keep the JOB stamp accepted last, for the next start (the core refuses any not above it). */
  | { type: 'stamp'; stamp: number }
  | { type: 'run'; job: Job }
  | { type: 'abort'; job: string; attempt: number; reason: string }
  | { type: 'log'; level: WorkerLogLevel; msg: string; data: Record<string, unknown> };
