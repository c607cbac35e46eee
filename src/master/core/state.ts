import type { JobEntry, ScheduleEntry, WorkerEntry, WorkerState } from './types.ts';

/** Everything the master knows, in memory. Only the core's handlers change it. */
export class MasterState {
  readonly jobs = new Map<string, JobEntry>();
  readonly workers = new Map<string, WorkerEntry>();
  /** The block jobs of each `@split` line, by the line's id. */
  readonly children = new Map<string, string[]>();
  /** Recurring lines, by line id. */
  readonly schedules = new Map<string, ScheduleEntry>();
  /** Pending job ids in the order they will be handed out. */
  queue: string[] = [];
  nextSeq = 1;
  round = 0;

  addJob(job: JobEntry): void {
    this.jobs.set(job.id, job);
    if (job.parent) {
      const siblings = this.children.get(job.parent) ?? [];
      siblings.push(job.id);
      this.children.set(job.parent, siblings);
    }
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
    const i = this.queue.indexOf(jobId);
    if (i >= 0) this.queue.splice(i, 1);
  }

  counts(): { pending: number; running: number; done: number; failed: number; removed: number } {
    const c = { pending: 0, running: 0, done: 0, failed: 0, removed: 0 };
    for (const job of this.jobs.values()) c[job.status] += 1;
    return c;
  }
}
