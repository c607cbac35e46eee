import type { Clock } from '../../clock.ts';
import type { Change, CompareOptions } from '../../delta/index.ts';
import type { Logger } from '../../log.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { ensureDir } from '../../storage/atomic-file.ts';
import { DrainLoop } from '../drain-loop.ts';
import type { MasterStore } from '../store.ts';
import { compareAttempt } from './compare-attempt.ts';
import {
  changesDir,
  readUncomparedChanges,
  writeChangesFiles,
  type JobChanges,
} from './changes-file.ts';
import { HistoryAppender, type HistoryEntry } from './history-file.ts';
import { PendingIndex, type HostIndex } from './host-index.ts';

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

/** Attempts compared before their files, history lines and records are made durable together. */
const BATCH = 64;

/** One attempt of a batch, compared: what the batch then makes durable for it. */
interface Compared {
  record: AttemptRecord;
  /** Null for an attempt that is not a completed scan: it only gets its `compared` record. */
  changes: JobChanges | null;
  /**
   * No history line yet: its changes file is written (again) and fsynced before the line, since
   * a file a crash left whole may still be only in the page cache.
   */
  write: boolean;
  /** The changes were computed now (no whole changes file yet): they are logged once written. */
  computed: boolean;
  /** Its history line, unless history.jsonl already has it. */
  line: HistoryEntry | null;
}

/**
 * Compares each filed attempt with the earlier results of its hosts, oldest first, off the path
 * that acknowledges results: a slow comparison delays `port_change` points, never the mesh. For
 * each completed attempt, in this order, each step durable before the next: the changes file,
 * the history line, the notification, the `compared` record. A crash anywhere repeats the
 * attempt from the changes file it finds, so no change is lost, computed twice, or compared with
 * the attempt itself; the notification may go out twice (receivers de-duplicate by its id).
 *
 * Attempts go in batches of what is waiting (up to BATCH), each step taken for the whole batch
 * at once: the changes files with one directory fsync, the history lines with one append and one
 * fsync, the `compared` records with one journal append. Each attempt is compared against the
 * index plus the batch's earlier attempts (PendingIndex), so the results are those of one at a
 * time. The changes files are written in place (changes-file.ts says why a torn one is safe).
 */
export class DeltaStage {
  private readonly o: DeltaStageOptions;
  private readonly loop: DrainLoop;
  private readonly history: HistoryAppender;
  /** changes/ exists (and its name is durable): checked once, by the first batch that writes. */
  private changesDirReady = false;

  constructor(options: DeltaStageOptions) {
    this.o = options;
    this.history = new HistoryAppender(options.store.stateDir);
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

  /** Stops after the attempts in hand (the store must stay open until this resolves). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const batch: AttemptRecord[] = [];
      for (const record of this.o.store.uncompared.values()) {
        batch.push(record);
        if (batch.length === BATCH) break;
      }
      if (batch.length === 0) return;
      // Attempts compared before one that failed still go through, as they would one at a time.
      const done: Compared[] = [];
      let failure: { err: unknown } | null = null;
      const pending = new PendingIndex(this.o.index);
      for (const record of batch) {
        if (this.loop.isStopped) break;
        try {
          done.push(await this.compareOne(record, pending));
        } catch (err) {
          failure = { err };
          break;
        }
      }
      await this.commit(done);
      if (done.length > 0) this.loop.progressed();
      for (const c of done) this.o.compared(c.record);
      if (failure) throw failure.err;
    }
  }

  /** Compares the attempt against `pending` and adds it there; writes nothing. */
  private async compareOne(record: AttemptRecord, pending: PendingIndex): Promise<Compared> {
    if (record.status !== 'completed') {
      return { record, changes: null, write: false, computed: false, line: null };
    }
    const { store, index } = this.o;
    const dir = store.stateDir;
    const changes = await readUncomparedChanges(dir, record.job, record.attempt);
    if (changes !== null && index.has(record.job, record.attempt)) {
      return { record, changes, write: false, computed: false, line: null };
    }
    const { hosts } = await store.readResult(record);
    const result = await compareAttempt(dir, pending, record, hosts, this.o.compare);
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
    const found = changes ?? {
      job: record.job,
      attempt: record.attempt,
      parent: parentOf(record.job),
      command: record.command,
      worker: record.worker,
      at: this.o.clock.now(),
      hosts: result.hosts,
    };
    const line = {
      job: record.job,
      attempt: record.attempt,
      parent: found.parent,
      at: found.at,
      up: result.up,
      down: result.down,
    };
    pending.add(line);
    return { record, changes: found, write: true, computed: changes === null, line };
  }

  /**
   * Each step for the whole batch, durable before the next starts (see the class comment). The
   * index gains the attempts only with their history lines: a step that fails leaves it as it
   * was, and the retry compares the batch again from the changes files that were completed.
   */
  private async commit(done: readonly Compared[]): Promise<void> {
    const writes = done.filter((c) => c.write);
    if (writes.length > 0) {
      if (!this.changesDirReady) await ensureDir(changesDir(this.o.store.stateDir));
      this.changesDirReady = true;
      await writeChangesFiles(
        this.o.store.stateDir,
        writes.map((c) => c.changes as JobChanges),
      );
      for (const c of writes) if (c.computed) this.log(c.changes as JobChanges);
    }
    const lines = done.flatMap((c) => (c.line ? [c.line] : []));
    await this.history.append(lines);
    for (const line of lines) this.o.index.add(line);
    // One at a time, in order: the webhook queue keeps the order, and each durable write it makes
    // waits for a libuv thread the journal's fsync may need.
    for (const c of done) {
      if (c.changes && c.changes.hosts.length > 0) await this.o.notify(c.changes);
    }
    if (done.length > 0) await this.o.store.markCompared(done.map((c) => c.record));
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
