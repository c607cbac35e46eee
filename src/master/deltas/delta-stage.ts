import type { Clock } from '../../clock.ts';
import type { Change, CompareOptions } from '../../delta/index.ts';
import type { Logger } from '../../log.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { DrainLoop } from '../drain-loop.ts';
import type { MasterStore } from '../store.ts';
import { compareAttempt } from './compare-attempt.ts';
import { readChanges, writeChanges, type JobChanges } from './changes-file.ts';
import { appendHistory } from './history-file.ts';
import { HostIndex } from './host-index.ts';

export interface DeltaStageOptions {
  store: MasterStore;
  index: HostIndex;
  clock: Clock;
  logger: Logger;
  compare: CompareOptions;
  /** The attempt's changes are on disk: hand them on (webhooks). Must be durable when it resolves. */
  notify(changes: JobChanges): Promise<void>;
  /** An attempt was compared (recorded): its points may go to InfluxDB now. */
  compared(record: AttemptRecord): void;
  retryMinMs: number;
  retryMaxMs: number;
}

/** Change lines logged one by one per job; beyond this a count says how many more there were. */
const LOG_CHANGES = 200;

/**
 * Compares each filed attempt with the earlier results of its hosts, oldest first, off the path
 * that acknowledges results: a slow comparison delays `port_change` points, never the mesh. For
 * each completed attempt, in this order, each step durable before the next: the changes file,
 * the history line, the notification, the `compared` record. A crash anywhere repeats the
 * attempt from the changes file it finds, so no change is lost, computed twice, or compared with
 * the attempt itself; the notification may go out twice (receivers de-duplicate by its id).
 */
export class DeltaStage {
  private readonly o: DeltaStageOptions;
  private readonly loop: DrainLoop;

  constructor(options: DeltaStageOptions) {
    this.o = options;
    this.loop = new DrainLoop({
      clock: options.clock,
      retryMinMs: options.retryMinMs,
      retryMaxMs: options.retryMaxMs,
      drain: () => this.drain(),
      failed: (err) => this.retryLater(err),
    });
  }

  get backlog(): number {
    return this.o.store.uncompared.size;
  }

  kick(): void {
    this.loop.kick();
  }

  /** Resolves once every filed attempt is compared (clean shutdown, tests). */
  async idle(pollMs = 20): Promise<void> {
    while ((this.backlog > 0 || this.loop.busy) && !this.loop.isStopped) {
      this.kick();
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Stops after the attempt in hand (the store must stay open until this resolves). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const record = this.o.store.uncompared.values().next().value;
      if (record === undefined) return;
      if (record.status === 'completed') await this.compareOne(record);
      await this.o.store.markCompared(record);
      this.loop.progressed();
      this.o.compared(record);
    }
  }

  private async compareOne(record: AttemptRecord): Promise<void> {
    const { store, index } = this.o;
    const dir = store.stateDir;
    let changes = await readChanges(dir, record.job, record.attempt);
    if (changes === null || !index.has(record.job, record.attempt)) {
      const { hosts } = await store.readResult(record);
      const result = await compareAttempt(dir, index, record, hosts, this.o.compare);
      if (result.missing.length > 0) {
        this.o.logger.warn(
          {
            code: 'SCANMESH_RESULT_MISSING',
            job: record.job,
            missing: result.missing.slice(0, 20),
          },
          'earlier results are missing from the store; those hosts are compared as new',
        );
      }
      if (changes === null) {
        changes = {
          job: record.job,
          attempt: record.attempt,
          parent: parentOf(record.job),
          command: record.command,
          worker: record.worker,
          at: this.o.clock.now(),
          hosts: result.hosts,
        };
        await writeChanges(dir, changes);
        this.log(changes);
      }
      const entry = { job: record.job, attempt: record.attempt, parent: changes.parent };
      await appendHistory(dir, { ...entry, at: changes.at, up: result.up, down: result.down });
      index.add({ ...entry, up: result.up, down: result.down });
    }
    if (changes.hosts.length > 0) await this.o.notify(changes);
  }

  private log(changes: JobChanges): void {
    const all = changes.hosts.flatMap((h) => h.changes);
    const news = all.filter((c) => c.change !== 'baseline');
    const baselines = all.length - news.length;
    const job = { job: changes.job, attempt: changes.attempt };
    if (baselines > 0) this.o.logger.info({ ...job, hosts: baselines }, 'baseline: first results');
    for (const c of news.slice(0, LOG_CHANGES)) this.o.logger.info(changeLine(c), 'change');
    if (news.length > LOG_CHANGES) {
      this.o.logger.info({ ...job, more: news.length - LOG_CHANGES }, 'more changes not logged');
    }
    if (news.length > 0) {
      const noisy = news.filter((c) => c.noisy).length;
      this.o.logger.info({ ...job, changes: news.length, noisy }, 'job changes');
    }
  }

  private retryLater(err: unknown): void {
    const retryMs = this.loop.retryLater();
    this.o.logger.error(
      {
        code: 'SCANMESH_DELTA_FAILED',
        err: (err as Error).message,
        backlog: this.backlog,
        retry_ms: retryMs,
      },
      'comparing results failed; retrying',
    );
  }
}

function changeLine(c: Change): Record<string, unknown> {
  return {
    host: c.host,
    port: c.port,
    protocol: c.protocol,
    change: c.change,
    before: c.before,
    after: c.after,
    job: c.job,
    previous_job: c.previousJob,
    noisy: c.noisy,
  };
}

/** `<line>.<k>` is a block of the split line `<line>`; job ids have no other dots. */
function parentOf(job: string): string | null {
  const dot = job.lastIndexOf('.');
  return dot < 0 ? null : job.slice(0, dot);
}
