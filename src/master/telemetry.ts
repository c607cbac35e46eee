import type { IPoint } from 'influx';
import type { Logger } from '../log.ts';
import type { InfluxWriter } from '../storage/influx-writer.ts';
import { masterPoint, workerPoint, type MasterTelemetry } from '../storage/points.ts';
import { unixMsToNs } from '../storage/timestamp.ts';
import type { WorkerEntry } from './core/types.ts';

/**
 * `worker` and `master` points. Unlike results these are a view of the present, so they are not
 * kept durably: while InfluxDB is down the newest MAX_BUFFERED wait in memory and older ones go.
 */
const MAX_BUFFERED = 20_000;

export class Telemetry {
  private buffer: IPoint[] = [];
  private dropped = 0;
  private flushing = false;
  private databaseReady = false;
  private lastMs = -1;
  private lastNs = '';
  private readonly writer: InfluxWriter;
  private readonly logger: Logger;

  constructor(writer: InfluxWriter, logger: Logger) {
    this.writer = writer;
    this.logger = logger;
  }

  worker(w: WorkerEntry, now: number): void {
    this.push(
      workerPoint(
        {
          worker: w.id,
          state: w.state,
          active: w.running.size,
          requestCounter: w.counter,
          jobsDone: w.jobsDone,
          jobsFailed: w.jobsFailed,
        },
        this.timestamp(now),
      ),
    );
  }

  master(t: MasterTelemetry, now: number): void {
    this.push(masterPoint(t, this.timestamp(now)));
  }

  /** A worker point is made for every change of a worker, many within the same millisecond. */
  private timestamp(now: number): string {
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastNs = unixMsToNs(now);
    }
    return this.lastNs;
  }

  async flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const batch = this.buffer;
    this.buffer = [];
    try {
      if (!this.databaseReady) await this.writer.ensureDatabase();
      this.databaseReady = true;
      await this.writer.write(batch);
      if (this.dropped > 0)
        this.logger.warn(
          { dropped: this.dropped },
          'telemetry points dropped while InfluxDB was unreachable',
        );
      this.dropped = 0;
    } catch {
      this.buffer = [...batch, ...this.buffer];
      this.trim();
    } finally {
      this.flushing = false;
    }
  }

  private push(point: IPoint): void {
    this.buffer.push(point);
    this.trim();
  }

  private trim(): void {
    const over = this.buffer.length - MAX_BUFFERED;
    if (over > 0) {
      this.buffer.splice(0, over);
      this.dropped += over;
    }
  }
}
