import { join } from 'node:path';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { JobRef } from '../protocol/messages/common.ts';
import { partKey, type Data } from '../protocol/messages/data.ts';
import { openJournal, type Journal, type LineInfo } from '../storage/journal.ts';

/**
 * The worker's on-disk queue of finished results the master has not acknowledged yet. The worker
 * publishes a DATA part only after `put` resolved, and forgets it only after the master's ack, so
 * a part lives on disk from the moment it exists until the master has stored it: a crash, a
 * reboot or a long broker outage loses nothing, and on restart `pending()` is what to resend.
 *
 * On disk it is a journal of `put` and `ack` records. Acked parts are dead weight, so the file is
 * rewritten with only the live parts when everything is acked (it becomes empty) or when it is
 * larger than `compactAtBytes` and more than twice the live parts.
 */
export interface Spool {
  /** Resolves once the part is durable; only then may it be published. */
  put(message: Data): Promise<void>;
  /** Durably forgets one part; a part that is unknown or already acked is a no-op. */
  ack(job: string, attempt: number, seq: number): Promise<void>;
  /** Durable, unacknowledged parts in the order they were put. */
  pending(): Data[];
  /** The distinct attempts that still have pending parts, in order of their first pending part. */
  held(): JobRef[];
  /** Number of pending parts. */
  readonly size: number;
  /** Waits for writes and a running compaction, then closes the file. */
  close(): Promise<void>;
}

export interface SpoolOptions {
  /** Compact once the file is larger than this and than twice its live parts. Default 4 MiB. */
  compactAtBytes?: number;
  /** fdatasync before put/ack resolve. Default true; false only in tests of something else. */
  fsync?: boolean;
  /** Where a failed (background) compaction is reported; the spool keeps working without it. */
  log?: Logger;
}

const DEFAULTS = {
  compactAtBytes: 4 * 1024 * 1024, // bytes
  fsync: true,
};

export const SPOOL_FILE = 'spool.jsonl';

type Ack = { job: string; attempt: number; seq: number };
type SpoolRecord = { put: Data } | { ack: Ack };

interface Entry {
  data: Data;
  /** Bytes of its `put` line: what the entry costs in a compacted file. */
  bytes: number;
  /** False while its `put` is still being written: not yet safe to publish. */
  durable: boolean;
}

export async function openSpool(dir: string, options: SpoolOptions = {}): Promise<Spool> {
  const config = {
    compactAtBytes: options.compactAtBytes ?? DEFAULTS.compactAtBytes,
    fsync: options.fsync ?? DEFAULTS.fsync,
  };
  if (!Number.isSafeInteger(config.compactAtBytes) || config.compactAtBytes < 0) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `spool compactAtBytes must be a whole number of bytes >= 0, got ${config.compactAtBytes}`,
    );
  }
  const path = join(dir, SPOOL_FILE);
  const live = new Map<string, Entry>();
  const onRecord = (record: SpoolRecord, { line, bytes }: LineInfo): void => {
    if (isPut(record)) {
      const { job, attempt, seq } = record.put;
      const key = partKey(job, attempt, seq);
      live.delete(key); // a repeated put counts from its latest position, as at run time
      live.set(key, { data: record.put, bytes, durable: true });
    } else if (isAck(record)) {
      live.delete(partKey(record.ack.job, record.ack.attempt, record.ack.seq));
    } else {
      throw new ScanmeshError('SCANMESH_STORE_FAILED', `${path} line ${line}: not a spool record`);
    }
  };
  const { journal } = await openJournal<SpoolRecord>(path, { fsync: config.fsync, onRecord });
  const spool = new FileSpool(journal, live, config.compactAtBytes, options.log);
  spool.compactIfWorthIt(); // a crash may have come between an ack and its compaction
  return spool;
}

class FileSpool implements Spool {
  readonly #journal: Journal<SpoolRecord>;
  /** Parts in put order, including those whose `put` is still being written. */
  readonly #live: Map<string, Entry>;
  readonly #compactAtBytes: number;
  readonly #log: Logger | undefined;
  #liveBytes = 0;
  #durable = 0;
  #compaction: Promise<void> | null = null;
  #closed = false;

  constructor(
    journal: Journal<SpoolRecord>,
    live: Map<string, Entry>,
    compactAtBytes: number,
    log: Logger | undefined,
  ) {
    this.#journal = journal;
    this.#live = live;
    this.#compactAtBytes = compactAtBytes;
    this.#log = log;
    for (const entry of live.values()) this.#liveBytes += entry.bytes;
    this.#durable = live.size;
  }

  get size(): number {
    return this.#durable;
  }

  async put(message: Data): Promise<void> {
    const key = partKey(message.job, message.attempt, message.seq);
    const before = this.#journal.pendingBytes;
    const written = this.#journal.append([{ put: message }]);
    const bytes = this.#journal.pendingBytes - before;
    if (bytes === 0) return written; // refused (journal failed or closed): rejects
    const old = this.#live.get(key);
    if (old) this.#drop(key, old);
    const entry: Entry = { data: message, bytes, durable: false };
    this.#live.set(key, entry);
    this.#liveBytes += bytes;
    if (old) this.compactIfWorthIt();
    await written;
    // An ack (or a newer put) may have replaced it meanwhile; then it is not ours to count.
    if (this.#live.get(key) === entry) {
      entry.durable = true;
      this.#durable += 1;
    }
  }

  async ack(job: string, attempt: number, seq: number): Promise<void> {
    const key = partKey(job, attempt, seq);
    const entry = this.#live.get(key);
    if (!entry) return;
    const written = this.#journal.append([{ ack: { job, attempt, seq } }]);
    this.#drop(key, entry);
    this.compactIfWorthIt();
    await written;
  }

  pending(): Data[] {
    const out: Data[] = [];
    for (const entry of this.#live.values()) if (entry.durable) out.push(entry.data);
    return out;
  }

  held(): JobRef[] {
    const seen = new Map<string, JobRef>();
    for (const { data, durable } of this.#live.values()) {
      const key = `${data.job}#${data.attempt}`;
      if (durable && !seen.has(key)) seen.set(key, { job: data.job, attempt: data.attempt });
    }
    return [...seen.values()];
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#compaction;
    await this.#journal.close();
  }

  /**
   * Starts a compaction if the file is worth shrinking. It must run synchronously with the call
   * that changed `#live`: the journal orders a rewrite after every append called before it, so
   * the snapshot taken here is exactly what the file holds once those appends land.
   */
  compactIfWorthIt(): void {
    if (this.#compaction || this.#closed || this.#journal.failure) return;
    const fileBytes = this.#journal.sizeBytes + this.#journal.pendingBytes;
    const empty = this.#live.size === 0 && fileBytes > 0;
    const bloated = fileBytes > this.#compactAtBytes && fileBytes > 2 * this.#liveBytes;
    if (!empty && !bloated) return;
    const snapshot = [...this.#live.values()].map((entry) => ({ put: entry.data }));
    this.#compaction = this.#journal.rewrite(snapshot).then(
      () => {
        this.#compaction = null;
        this.compactIfWorthIt(); // everything may have been acked while it ran
      },
      (err: unknown) => {
        // Nothing is lost: the old file still holds every part. The next ack tries again.
        this.#compaction = null;
        this.#log?.warn({ err }, 'spool compaction failed');
      },
    );
  }

  #drop(key: string, entry: Entry): void {
    this.#live.delete(key);
    this.#liveBytes -= entry.bytes;
    if (entry.durable) this.#durable -= 1;
  }
}

function isPut(record: unknown): record is { put: Data } {
  return isObject(record) && isPartRef((record as { put?: unknown }).put);
}

function isAck(record: unknown): record is { ack: Ack } {
  return isObject(record) && isPartRef((record as { ack?: unknown }).ack);
}

function isPartRef(value: unknown): value is Ack {
  if (!isObject(value)) return false;
  const { job, attempt, seq } = value as Partial<Record<keyof Ack, unknown>>;
  return typeof job === 'string' && typeof attempt === 'number' && typeof seq === 'number';
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
