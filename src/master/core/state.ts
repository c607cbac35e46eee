import { JobQueue } from './job-queue.ts';
import { JobTable, type StatusCounts } from './job-table.ts';
import type { JobEntry, JobStatus, ScheduleEntry, WorkerEntry, WorkerState } from './types.ts';

/** Everything the master knows, in memory. Only the core's handlers change it. */
export class MasterState {
  readonly jobs = new JobTable();
  readonly workers = new Map<string, WorkerEntry>();
  /** The block jobs of each `@split` line, by the line's id. */
  readonly children = new Map<string, string[]>();
  /** Recurring lines, by line id. */
  readonly schedules = new Map<string, ScheduleEntry>();
  /** Pending jobs in the order they will be handed out. */
  readonly pending = new JobQueue();
  nextSeq = 1;
  round = 0;
  /** The last JOB stamp given (protocol/messages/job.ts): the next must be above it. */
  lastStamp = 0;

  addJob(job: JobEntry): void {
    this.jobs.set(job.id, job);
    if (job.parent) {
      const siblings = this.children.get(job.parent) ?? [];
      siblings.push(job.id);
      this.children.set(job.parent, siblings);
    }
  }

  setStatus(job: JobEntry, status: JobStatus): void {
    this.jobs.setStatus(job, status);
  }

  newWorker(id: string, now: number): WorkerEntry {
    const worker: WorkerEntry = {
      id,
      state: 'WAITING',
      counter: 0,
      slots: 1,
      nmap: '',
      running: new Map(),
      lastSeen: now,
      graceUntil: 0,
      jobsDone: 0,
      jobsFailed: 0,
    };
    this.workers.set(id, worker);
    return worker;
  }

  /** The state a reachable worker is in, given what runs there. */
  static activeState(worker: WorkerEntry): WorkerState {
    return worker.running.size > 0 ? 'ACTIVE' : 'WAITING';
  }

  dequeue(jobId: string): void {
    this.pending.delete(jobId);
  }

  counts(): StatusCounts {
    return this.jobs.counts();
  }
}
