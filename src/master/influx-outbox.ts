import type { IPoint } from 'influx';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import { isRetryableInfluxError, type InfluxWriter } from '../storage/influx-writer.ts';
import { hostPoints, scanPoint } from '../storage/points.ts';
import { portChangePoints } from '../storage/port-change-points.ts';
import { readChanges } from './deltas/changes-file.ts';
import { DrainLoop } from './drain-loop.ts';
import type { MasterStore } from './store.ts';

export interface OutboxOptions {
  store: MasterStore;
  writer: InfluxWriter;
  clock: Clock;
  logger: Logger;
  /** Points gathered into one write before it is sent. */
  batchPoints: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/**
 * Moves filed results into InfluxDB, oldest first, a batch at a time. A failure that can pass
 * (InfluxDB down, slow, 5xx) waits with exponential backoff and retries the same batch; the results
 * stay on disk meanwhile. A batch InfluxDB refuses for good is retried one attempt at a time so
 * that only the attempt at fault is set aside, loudly, in the dead folder.
 *
 * An attempt may go only once it is compared (store.ts), so the outbox works from a queue of its
 * own: the attempts of the store's outbox that are compared, in the order they were (`compared`
 * adds one). Looking for them in the whole outbox on every kick would cost a scan per attempt.
 */
export class InfluxOutbox {
  private readonly o: OutboxOptions;
  private readonly loop: DrainLoop;
  private databaseReady = false;
  /** Compared attempts not yet written, oldest first. */
  private readonly ready = new Map<string, AttemptRecord>();

  constructor(options: OutboxOptions) {
    this.o = options;
    for (const record of options.store.outbox.values()) {
      if (options.store.isCompared(record)) this.ready.set(key(record), record);
    }
    this.loop = new DrainLoop({
      clock: options.clock,
      retryMinMs: options.retryMinMs,
      retryMaxMs: options.retryMaxMs,
      drain: () => this.drain(),
      // Not InfluxDB (its errors are handled in `drain`): the store, say a full table of open
      // files. Without a retry the outbox would wait for the next result to kick it.
      failed: (err) => {
        const retryMs = this.loop.retryLater();
        options.logger.error({ err, retry_ms: retryMs }, 'outbox drain failed; retrying');
      },
    });
  }

  get backlog(): number {
    return this.o.store.outbox.size;
  }

  /** Something new was filed, or it is time to retry. */
  kick(): void {
    this.loop.kick();
  }

  /** The delta stage has compared this attempt (recorded): it may go to InfluxDB now. */
  compared(record: AttemptRecord): void {
    // Not in the outbox: already written (an attempt a master before the delta stage filed).
    if (!this.o.store.outbox.has(key(record))) return;
    this.ready.set(key(record), record);
    this.kick();
  }

  /** Stops after the batch in hand: the store must stay open until this resolves. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Resolves once the backlog is empty (for a clean shutdown and for tests). */
  async flushed(pollMs = 50): Promise<void> {
    while (this.backlog > 0 && !this.loop.isStopped) {
      this.kick();
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped && this.ready.size > 0) {
      const batch: AttemptRecord[] = [];
      const points: IPoint[] = [];
      for (const record of this.ready.values()) {
        const recordPoints = await this.pointsOf(record).catch(async (err: unknown) => {
          if (!(await this.o.store.isSetAside(record))) throw err;
          return null;
        });
        if (recordPoints === null) {
          // Set aside before a crash, which came before it was marked written: finish that.
          await this.written([record]);
          continue;
        }
        points.push(...recordPoints);
        batch.push(record);
        if (points.length >= this.o.batchPoints) break;
      }
      if (batch.length === 0) return;
      try {
        if (!this.databaseReady) await this.o.writer.ensureDatabase();
        this.databaseReady = true;
        await this.o.writer.write(points);
      } catch (err) {
        if (isRetryableInfluxError(err)) return this.retryLater(err);
        await this.isolateRefused(batch);
        continue;
      }
      await this.written(batch);
      for (const record of batch) await this.o.store.dropFailedResult(record);
      this.loop.progressed();
    }
  }

  private async pointsOf(record: AttemptRecord): Promise<IPoint[]> {
    const { hosts } = await this.o.store.readResult(record);
    const changes = await readChanges(this.o.store.stateDir, record.job, record.attempt);
    return [
      scanPoint(record, hosts),
      ...hosts.flatMap((h) => hostPoints(record, h)),
      ...portChangePoints(record, changes?.hosts.flatMap((h) => h.changes) ?? []),
    ];
  }

  private async written(records: readonly AttemptRecord[]): Promise<void> {
    const marked = this.o.store.markWritten(records);
    for (const record of records) this.ready.delete(key(record));
    await marked;
  }

  private retryLater(err: unknown): void {
    const retryMs = this.loop.retryLater();
    this.o.logger.warn(
      {
        code: 'SCANMESH_INFLUX_FAILED',
        err: (err as Error).message,
        backlog: this.backlog,
        retry_ms: retryMs,
      },
      'InfluxDB write failed; results wait in the outbox',
    );
  }

  private async isolateRefused(batch: readonly AttemptRecord[]): Promise<void> {
    for (const record of batch) {
      const points = await this.pointsOf(record);
      try {
        await this.o.writer.write(points);
        await this.written([record]);
      } catch (err) {
        if (isRetryableInfluxError(err)) throw err;
        const to = await this.o.store.markDead(record);
        this.ready.delete(key(record));
        this.o.logger.error(
          {
            code: 'SCANMESH_INFLUX_FAILED',
            err: (err as Error).message,
            job: record.job,
            attempt: record.attempt,
            file: to,
          },
          'InfluxDB refused these results for good; set aside',
        );
      }
    }
  }
}

/** The store's key for an attempt (store.ts). */
function key(record: AttemptRecord): string {
  return `${record.job}#${record.attempt}`;
}
