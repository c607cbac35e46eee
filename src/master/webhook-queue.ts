import { dirname, join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.ts';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { ensureDir, writeFileAtomic } from '../storage/atomic-file.ts';
import {
  loadPending,
  pendingPath,
  pendingText,
  removePending,
  writeDead,
  type PendingRecord,
} from './webhook-file.ts';
import { postOnce, type PostOutcome } from './webhook-post.ts';
import { describeUrl, isWebhookUrl } from './webhook-url.ts';

export interface WebhookQueueOptions {
  /** `<state-dir>/webhooks`: a file per pending notification; refusals go to `../dead/webhooks`. */
  dir: string;
  /** The master's `--webhook` URLs, http(s). Userinfo is sent as Basic authorization. */
  urls: readonly string[];
  clock: Clock;
  logger: Logger;
  /** First retry delay after a failure, doubled per failure up to `retryMaxMs` (ms). */
  retryMinMs: number;
  retryMaxMs: number;
  /** How long one POST may wait for the receiver's status line (ms). */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** One notification: the in-memory twin of its pending file. */
interface Pending extends Omit<PendingRecord, 'urls'> {
  readonly file: string;
  /** Receivers still owed it. */
  readonly remaining: Set<string>;
  /** In its lanes, which happens only once its file is durable. */
  queued: boolean;
  /** File writes started and not yet settled. */
  writes: number;
}

/** One receiver: its own order, backoff and at most one request in flight. */
interface Lane {
  readonly url: string;
  /** Oldest first; the head is the one being delivered. */
  readonly queue: Pending[];
  delayMs: number;
  /** A serve() is under way. */
  running: boolean;
  loop: Promise<void>;
  timer: TimerHandle | null;
}

/**
 * Durable webhook delivery, at least once. Each notification is a file under `dir` listing the
 * URLs still owed it; each URL is a lane that POSTs oldest first, one request at a time, retrying
 * network errors, timeouts, 408, 429 and 5xx with exponential backoff forever (a `Retry-After` is
 * honoured up to `retryMaxMs`). Any other status is a refusal for good: that URL's copy is set
 * aside in `<dir>/../dead/webhooks/` with a SCANMESH_WEBHOOK_REFUSED error. A dead receiver holds
 * back only its own lane. After each success the file is rewritten atomically without that URL and
 * removed once none remain; a crash in between means one more delivery, which receivers drop by
 * the `x-scanmesh-delivery` header. Files left by a previous run are delivered to the URLs they
 * name, even a URL no longer configured: they were promised to it.
 */
export class WebhookQueue {
  private readonly o: WebhookQueueOptions;
  private readonly fetch: typeof fetch;
  private readonly deadDir: string;
  private readonly records = new Map<string, Pending>();
  private readonly lanes = new Map<string, Lane>();
  /** Per file, the tail of its writes and removals, so they land on disk in call order. */
  private readonly fileOps = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly urls: readonly string[];
  private nextSeq = 1;

  private constructor(o: WebhookQueueOptions) {
    this.o = o;
    this.fetch = o.fetch ?? fetch;
    this.deadDir = join(dirname(o.dir), 'dead', 'webhooks');
    this.urls = [...new Set(o.urls)];
  }

  /** Load what a previous run left pending and start delivering it. */
  static async open(options: WebhookQueueOptions): Promise<WebhookQueue> {
    validate(options);
    await ensureDir(options.dir);
    const queue = new WebhookQueue(options);
    const loaded = await loadPending(options.dir, options.logger);
    for (const r of loaded) {
      const p: Pending = {
        ...r,
        file: pendingPath(options.dir, r.id),
        remaining: new Set(r.urls),
        queued: false,
        writes: 0,
      };
      queue.records.set(p.id, p);
      queue.enlist(p);
      queue.nextSeq = Math.max(queue.nextSeq, p.seq + 1);
    }
    if (loaded.length > 0) {
      options.logger.info({ pending: loaded.length }, 'delivering webhooks left by a previous run');
    }
    for (const lane of queue.lanes.values()) {
      if (!queue.urls.includes(lane.url)) {
        options.logger.info(
          { ...describeUrl(lane.url), backlog: lane.queue.length },
          'webhook URL no longer configured; delivering what was promised to it',
        );
      }
    }
    return queue;
  }

  /**
   * Durable before it resolves (atomic write + fsync); never waits for any receiver. Enqueueing an
   * id still pending replaces its body but keeps which URLs were already served, so a caller that
   * re-enqueues after a crash causes no extra delivery (a receiver served before the re-enqueue,
   * even with the older body, counts as served). Throws TypeError for an empty or overlong id or a
   * body JSON cannot encode, SCANMESH_STORE_FAILED when the file cannot be written.
   */
  async enqueue(id: string, body: unknown): Promise<void> {
    if (this.urls.length === 0) return;
    const payload = JSON.stringify(body) as string | undefined;
    if (payload === undefined) throw new TypeError(`webhook body for ${id} is not JSON`);
    const file = pendingPath(this.o.dir, id);
    let p = this.records.get(id);
    if (p) {
      p.payload = payload;
    } else {
      p = {
        id,
        seq: this.nextSeq++,
        enqueuedAt: this.o.clock.now(),
        payload,
        file,
        remaining: new Set(this.urls),
        queued: false,
        writes: 0,
      };
      this.records.set(id, p);
    }
    const rec = p;
    try {
      await this.persist(rec);
    } catch (err) {
      // Not durable, so not promised: forget it unless another write of it may still succeed.
      if (!rec.queued && rec.writes === 0 && this.records.get(id) === rec) this.forget(rec);
      throw err;
    }
    // After stop() the file waits for the next run.
    if (!rec.queued && this.records.get(id) === rec && !this.stopping.signal.aborted) {
      this.enlist(rec);
    }
  }

  /** Notifications with at least one receiver still owed. */
  get pending(): number {
    return this.records.size;
  }

  /** Resolves when nothing is pending and the disk says so; rejects if stop() comes first. */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    if (this.stopping.signal.aborted) return Promise.reject(this.stoppedError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Stop delivering: requests in flight are aborted (their notifications stay pending and are sent
   * again by the next run), timers cleared, then the file writes under way are awaited.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const lane of this.lanes.values()) {
      if (lane.timer) this.o.clock.clear(lane.timer);
      lane.timer = null;
    }
    await Promise.all([...this.lanes.values()].map((lane) => lane.loop));
    await Promise.all(this.fileOps.values());
    if (!this.isIdle()) for (const w of this.waiters.splice(0)) w.reject(this.stoppedError());
  }

  /** Put a durable notification at the end of each of its URLs' lanes. */
  private enlist(p: Pending): void {
    p.queued = true;
    for (const url of p.remaining) {
      let lane = this.lanes.get(url);
      if (!lane) {
        lane = {
          url,
          queue: [],
          delayMs: this.o.retryMinMs,
          running: false,
          loop: Promise.resolve(),
          timer: null,
        };
        this.lanes.set(url, lane);
      }
      lane.queue.push(p);
      this.kick(lane);
    }
  }

  private kick(lane: Lane): void {
    if (lane.running || lane.timer || this.stopping.signal.aborted) return;
    lane.running = true;
    lane.loop = this.serve(lane);
  }

  /** Deliver the lane's notifications in order until it is empty or a failure sets a timer. */
  private async serve(lane: Lane): Promise<void> {
    for (;;) {
      const p = lane.queue[0];
      if (!p || this.stopping.signal.aborted) break;
      let goOn: boolean;
      try {
        goOn = await this.deliverHead(lane, p);
      } catch (err) {
        // Only disk trouble setting a refusal aside gets here: try that notification again later.
        this.retryLater(lane, { reason: String(err), status: null }, p);
        goOn = false;
      }
      if (!goOn) break;
    }
    // Cleared in the same turn as the last look at the queue: a notification enlisted at any
    // moment is either seen by this loop or starts the next one.
    lane.running = false;
  }

  /** POST the lane's oldest notification; false when the lane must pause (retry timer, stop). */
  private async deliverHead(lane: Lane, p: Pending): Promise<boolean> {
    const outcome = await postOnce({
      url: lane.url,
      id: p.id,
      payload: p.payload,
      timeoutMs: this.o.timeoutMs,
      clock: this.o.clock,
      fetch: this.fetch,
      stop: this.stopping.signal,
    });
    if (outcome.kind === 'aborted') return false;
    if (outcome.kind === 'retry') {
      this.retryLater(lane, outcome, p);
      return false;
    }
    if (outcome.kind === 'refused') await this.setAside(lane, p, outcome);
    else this.o.logger.debug({ ...describeUrl(lane.url), delivery: p.id }, 'webhook delivered');
    lane.delayMs = this.o.retryMinMs;
    lane.queue.shift();
    await this.served(p, lane.url);
    return true;
  }

  private retryLater(
    lane: Lane,
    failure: { reason: string; status: number | null; retryAfterMs?: number | null },
    p?: Pending,
  ): void {
    const wait = Math.min(this.o.retryMaxMs, Math.max(lane.delayMs, failure.retryAfterMs ?? 0));
    this.o.logger.warn(
      {
        code: 'SCANMESH_WEBHOOK_FAILED',
        ...describeUrl(lane.url),
        delivery: p?.id,
        status: failure.status,
        err: failure.reason,
        retry_ms: wait,
        backlog: lane.queue.length,
      },
      'webhook delivery failed; will retry',
    );
    lane.delayMs = Math.min(lane.delayMs * 2, this.o.retryMaxMs);
    if (this.stopping.signal.aborted) return;
    lane.timer = this.o.clock.setTimeout(() => {
      lane.timer = null;
      this.kick(lane);
    }, wait);
  }

  private async setAside(
    lane: Lane,
    p: Pending,
    outcome: Extract<PostOutcome, { kind: 'refused' }>,
  ): Promise<void> {
    // Written before the pending file forgets the URL: a crash between leaves both, never neither.
    const file = await writeDead(this.deadDir, {
      id: p.id,
      url: lane.url,
      status: outcome.status,
      reason: outcome.reason,
      refusedAt: this.o.clock.now(),
      payload: p.payload,
    });
    this.o.logger.error(
      {
        code: 'SCANMESH_WEBHOOK_REFUSED',
        ...describeUrl(lane.url),
        delivery: p.id,
        status: outcome.status,
        err: outcome.reason,
        file,
      },
      'webhook receiver refused this notification for good; set aside, not retried',
    );
  }

  /** `url` has what it was owed: record that on disk, or remove the file once nobody is owed. */
  private async served(p: Pending, url: string): Promise<void> {
    p.remaining.delete(url);
    let done: Promise<void>;
    if (p.remaining.size > 0) {
      done = this.persist(p);
    } else {
      if (this.records.get(p.id) === p) this.records.delete(p.id);
      done = this.onFile(p.file, () => removePending(p.file, this.o.dir));
    }
    await done.catch((err: unknown) =>
      // The file still names the URL: the next run delivers once more, which at-least-once allows.
      this.o.logger.error(
        { code: 'SCANMESH_STORE_FAILED', err: String(err), delivery: p.id, file: p.file },
        'could not record a webhook delivery; it may be sent again after a restart',
      ),
    );
  }

  private persist(p: Pending): Promise<void> {
    p.writes++;
    return this.onFile(p.file, async () => {
      try {
        // Serialized when the write runs, so the file gets the latest body and URL set.
        const { id, seq, enqueuedAt, payload } = p;
        await writeFileAtomic(
          p.file,
          pendingText({ id, seq, enqueuedAt, payload, urls: [...p.remaining] }),
        );
      } finally {
        p.writes--;
      }
    });
  }

  /** Run `op` after every earlier operation on `file`, whatever their outcome. */
  private onFile(file: string, op: () => Promise<void>): Promise<void> {
    const run = (this.fileOps.get(file) ?? Promise.resolve()).then(op);
    const tail = run.catch(() => undefined);
    this.fileOps.set(file, tail);
    void tail.then(() => {
      if (this.fileOps.get(file) === tail) this.fileOps.delete(file);
      this.wakeIfIdle();
    });
    return run;
  }

  private forget(p: Pending): void {
    this.records.delete(p.id);
    this.wakeIfIdle();
  }

  private isIdle(): boolean {
    return this.records.size === 0 && this.fileOps.size === 0;
  }

  private wakeIfIdle(): void {
    if (this.isIdle()) for (const w of this.waiters.splice(0)) w.resolve();
  }

  private stoppedError(): ScanmeshError {
    return new ScanmeshError(
      'SCANMESH_WEBHOOK_FAILED',
      `webhook queue stopped with ${this.records.size} notification(s) pending`,
    );
  }
}

/** Invalid options fail at open, naming the option; never quoting a URL (it may hold a secret). */
function validate(o: WebhookQueueOptions): void {
  const bad = (what: string): never => {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `webhook queue: ${what}`);
  };
  if (typeof o.dir !== 'string' || o.dir === '') bad('dir must be a directory path');
  o.urls.forEach((url, i) => {
    if (!isWebhookUrl(url)) bad(`urls[${i}] must be an absolute http(s) URL`);
  });
  if (!(o.retryMinMs > 0)) bad('retryMinMs must be a positive number of milliseconds');
  if (!(o.retryMaxMs >= o.retryMinMs)) bad('retryMaxMs must be at least retryMinMs');
  if (!(o.timeoutMs > 0)) bad('timeoutMs must be a positive number of milliseconds');
}
