import type { JobEntry, JobStatus } from './types.ts';

export type StatusCounts = Record<JobStatus, number>;

/**
 * The jobs by id, with how many are in each status kept up to date as they change: the core logs
 * progress on every finished job, and counting then would cost a walk over every job each time.
 * A job's status changes only through `setStatus` (its field is read-only to everyone else).
 */
export class JobTable extends Map<string, JobEntry> {
  readonly #counts: StatusCounts = { pending: 0, running: 0, done: 0, failed: 0, removed: 0 };

  override set(id: string, job: JobEntry): this {
    const old = super.get(id);
    if (old) this.#counts[old.status] -= 1;
    this.#counts[job.status] += 1;
    return super.set(id, job);
  }

  override delete(id: string): boolean {
    const old = super.get(id);
    if (old) this.#counts[old.status] -= 1;
    return super.delete(id);
  }

  override clear(): void {
    for (const status of Object.keys(this.#counts) as JobStatus[]) this.#counts[status] = 0;
    super.clear();
  }

  setStatus(job: JobEntry, status: JobStatus): void {
    if (super.get(job.id) === job) {
      this.#counts[job.status] -= 1;
      this.#counts[status] += 1;
    }
    (job as { status: JobStatus }).status = status;
  }

  counts(): StatusCounts {
    return { ...this.#counts };
  }
}
