import type { Clock, TimerHandle } from '../clock.ts';

export interface DrainLoopOptions {
  clock: Clock;
  retryMinMs: number;
  retryMaxMs: number;
  /** Works through the queue until it is empty, `stopped()` is true, or it calls `retryLater`. */
  drain(): Promise<void>;
  /** `drain` threw: log it, and call `retryLater` if it may pass. */
  failed(err: unknown): void;
}

/**
 * The loop behind the master's background queues (the delta stage, the InfluxDB outbox): one
 * drain at a time, started by `kick` whenever there is new work, retried with exponential
 * backoff after a failure that may pass, reset to the shortest delay once work moves again, and
 * stopped only after the drain in hand has finished, so the store it writes to can then close.
 */
export class DrainLoop {
  private readonly o: DrainLoopOptions;
  private running: Promise<void> | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private delayMs: number;

  constructor(options: DrainLoopOptions) {
    this.o = options;
    this.delayMs = options.retryMinMs;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  kick(): void {
    if (this.running || this.timer || this.stopped) return;
    this.running = this.o
      .drain()
      .catch((err: unknown) => this.o.failed(err))
      .finally(() => {
        this.running = null;
      });
  }

  /** Work moved: the next failure waits the shortest delay again. */
  progressed(): void {
    this.delayMs = this.o.retryMinMs;
  }

  /** Try again after the current delay, which then doubles; returns that delay (ms) for the log. */
  retryLater(): number {
    const delay = this.delayMs;
    if (this.stopped) return delay;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delay);
    this.delayMs = Math.min(delay * 2, this.o.retryMaxMs);
    return delay;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.o.clock.clear(this.timer);
    this.timer = null;
    await this.running;
  }
}
