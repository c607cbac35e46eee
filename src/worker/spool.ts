import { join } from 'node:path';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { partKey, type Data } from '../protocol/messages/data.ts';
import type { LineInfo } from '../storage/journal.ts';
import type { PartRef } from './core/backlog.ts';
import { SpoolIndex, type IndexedPart } from './spool-index.ts';
import { SpoolLog, type Switch } from './spool-log.ts';

/**
 * The worker's on-disk queue of finished results the master has not acknowledged yet. The worker
 * publishes a DATA part only after `put` resolved, and forgets it only after the master's ack, so
 * a part lives on disk from the moment it exists until the master has stored it: a crash, a
 * reboot or a long broker outage loses nothing, and on restart `pending()` is what to resend.
 *
 * It also keeps the highest JOB stamp the worker accepted from its master (`keepStamp`), so a
 * JOB captured and replayed after a restart is refused: one short line per job, fdatasynced as
 * soon as it is appended (the job does not wait for it), and carried over by every compaction.
 *
 * On disk it is a journal of `put`, `ack` and `stamp` records. Acked parts are dead weight, so the file is
 * rewritten with only the live parts when everything is acked (it becomes empty) and it holds at
 * least TRUNCATE_EMPTY_AT_BYTES, or when it is larger than `compactAtBytes` and more than twice
 * the live parts.
 *
 * In memory it keeps only an index: where each live part's line is in the file. Bodies are read
 * back from disk when they are sent, so a scan of a million hosts waiting for the master costs
 * disk, not memory.
 */
export interface Spool {
  /** Resolves once the part is durable; only then may it be published. */
  put(message: Data): Promise<void>;
  /** Durably forgets one part; a part that is unknown or already acked is a no-op. */
  ack(job: string, attempt: number, seq: number): Promise<void>;
  /** Waits for the part's put: true once it is durable, false if it is not (or no longer) here. */
  written(job: string, attempt: number, seq: number): Promise<boolean>;
  /**
   * Reads a part back from disk once its put is durable, as the JSON bytes of its DATA message,
   * ready to publish: no parse and no re-encoding on the way from disk to the wire. null if it
   * is not (or no longer) here.
   */
  read(job: string, attempt: number, seq: number): Promise<Buffer | null>;
  /** Durable, unacknowledged parts in the order they were put (references, not bodies). */
  pending(): PartRef[];
  /** Number of pending parts. */
  readonly size: number;
  /** The highest JOB stamp kept for this spool's master; 0 if none. */
  readonly acceptedStamp: number;
  /**
   * Keeps a JOB stamp for the next start. Resolves once durable; the job need not wait for that,
   * its first part's put waits for it anyway (one fdatasync covers all earlier lines).
   */
  keepStamp(stamp: number): Promise<void>;
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
  /**
   * Whose JOB stamps count: the pinned master key's fingerprint. Stamps kept under another (the
   * worker was given a new master) are ignored, as that master's stamps start from its own clock.
   */
  master?: string;
}

const DEFAULTS = {
  compactAtBytes: 4 * 1024 * 1024, // bytes
  fsync: true,
};

export const SPOOL_FILE = 'spool.jsonl';

const PUT_PREFIX = '{"put":';
/** A part's key is written before its host, within the first bytes of its line. */
const KEY_WITHIN_BYTES = 512;

type Ack = { job: string; attempt: number; seq: number };
type Stamp = { stamp: number; master: string };
type SpoolRecord = { put: Data } | { ack: Ack } | Stamp;

export async function openSpool(dir: string, options: SpoolOptions = {}): Promise<Spool> {
  const config = {
    compactAtBytes: options.compactAtBytes ?? DEFAULTS.compactAtBytes,
    fsync: options.fsync ?? DEFAULTS.fsync,
    master: options.master ?? '',
  };
  if (!Number.isSafeInteger(config.compactAtBytes) || config.compactAtBytes < 0) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `spool compactAtBytes must be a whole number of bytes >= 0, got ${config.compactAtBytes}`,
    );
  }
  const path = join(dir, SPOOL_FILE);
  const index = new SpoolIndex();
  let offset = 0;
  let puts = 0;
  let stamp = 0;
  const onRecord = (record: SpoolRecord, { line, bytes }: LineInfo): void => {
    if (isPut(record)) {
      // A repeated put counts from its latest position, as at run time.
      const { job, attempt, seq } = record.put;
      index.set({ job, attempt, seq, offset, bytes, put: puts++ }, true);
    } else if (isAck(record)) {
      index.delete(record.ack.job, record.ack.attempt, record.ack.seq);
    } else if (isStamp(record)) {
      if (record.master === config.master) stamp = Math.max(stamp, record.stamp);
    } else {
      throw new ScanmeshError('SCANMESH_STORE_FAILED', `${path} line ${line}: not a spool record`);
    }
    offset += bytes;
  };
  const log = await SpoolLog.open<SpoolRecord>(path, { fsync: config.fsync, onRecord });
  const spool = new FileSpool(path, log, index, puts, config.compactAtBytes, options.log, {
    stamp,
    master: config.master,
  });
  spool.compactIfWorthIt(); // a crash may have come between an ack and its compaction
  return spool;
}

/**
 * A rewrite costs two fsyncs, a rename and two opens, which after every small job was more than
 * the job's own spooling (figure 6 of the bench: 5.8 fsyncs per job, 3.8 without). Below this an
 * acked file is left to grow until a later job's acks reach it.
 */
const TRUNCATE_EMPTY_AT_BYTES = 64 * 1024;

class FileSpool implements Spool {
  readonly #path: string;
  readonly #log: SpoolLog<SpoolRecord>;
  readonly #index: SpoolIndex;
  readonly #compactAtBytes: number;
  readonly #logger: Logger | undefined;
  /** The generation of the file every live part is in (compactions start new ones). */
  #gen = 0;
  #puts: number;
  /** The latest put's fdatasync: fdatasyncs complete in order, so once it has, all earlier have. */
  #latest: Promise<void> = Promise.resolve();
  /** job, attempt, seq and put number of the puts still waiting for each fdatasync. */
  readonly #unlanded = new Map<Promise<void>, (string | number)[]>();
  #compaction: Promise<void> | null = null;
  #closed = false;
  /** The highest stamp kept, and whose. */
  readonly #stamp: Stamp;

  constructor(
    path: string,
    log: SpoolLog<SpoolRecord>,
    index: SpoolIndex,
    puts: number,
    compactAtBytes: number,
    logger: Logger | undefined,
    stamp: Stamp,
  ) {
    this.#path = path;
    this.#log = log;
    this.#index = index;
    this.#puts = puts;
    this.#compactAtBytes = compactAtBytes;
    this.#logger = logger;
    this.#stamp = { ...stamp };
  }

  get size(): number {
    return this.#index.durableCount;
  }

  get acceptedStamp(): number {
    return this.#stamp.stamp;
  }

  keepStamp(stamp: number): Promise<void> {
    if (stamp <= this.#stamp.stamp) return Promise.resolve();
    this.#stamp.stamp = stamp;
    return this.#log.append({ ...this.#stamp }).durable;
  }

  put(message: Data): Promise<void> {
    const { job, attempt, seq } = message;
    const { offset, bytes, durable } = this.#log.append({ put: message });
    if (bytes === 0) return durable; // refused (log failed or closed): rejects
    const put = this.#puts++;
    const replaced = this.#index.set({ job, attempt, seq, offset, bytes, put }, false);
    if (replaced) this.compactIfWorthIt();
    this.#landing(durable).push(job, attempt, seq, put);
    this.#latest = durable;
    return durable;
  }

  ack(job: string, attempt: number, seq: number): Promise<void> {
    if (!this.#index.delete(job, attempt, seq)) return Promise.resolve();
    const { durable } = this.#log.append({ ack: { job, attempt, seq } });
    this.compactIfWorthIt();
    return durable;
  }

  async written(job: string, attempt: number, seq: number): Promise<boolean> {
    return (await this.#durable(job, attempt, seq)) !== null;
  }

  async read(job: string, attempt: number, seq: number): Promise<Buffer | null> {
    const part = await this.#durable(job, attempt, seq);
    if (!part) return null;
    // Where it is now: a compaction may have moved it while its put was being written.
    const line = this.#log.read(this.#gen, part);
    // `{"put":` + the message + `}\n`, as JSON.stringify wrote it. The part is told by its key,
    // which the core always writes in this order; anything else is checked the slow way.
    const key = `"job":${JSON.stringify(job)},"attempt":${attempt},"seq":${seq},`;
    const head = line.toString('utf8', 0, Math.min(line.length, KEY_WITHIN_BYTES));
    const framed = head.startsWith(PUT_PREFIX) && line[line.length - 2] === 125; // }
    if (!framed || !head.includes(key)) this.#checkPut(line, part);
    return line.subarray(PUT_PREFIX.length, line.length - 2);
  }

  pending(): PartRef[] {
    return this.#index
      .sorted()
      .filter((p) => p.durable)
      .map(({ job, attempt, seq, bytes }) => ({ job, attempt, seq, bytes }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#compaction;
    await this.#log.close();
  }

  /**
   * Starts a compaction if the file is worth shrinking: the live `put` lines are copied unchanged,
   * back to back, and the lines appended while it runs after them. The parts move in the turn
   * the new file takes over.
   */
  compactIfWorthIt(): void {
    if (this.#compaction || this.#closed || this.#log.failure) return;
    const fileBytes = this.#log.size;
    const liveBytes = this.#index.liveBytes;
    const empty = this.#index.size === 0 && fileBytes >= TRUNCATE_EMPTY_AT_BYTES;
    const bloated = fileBytes > this.#compactAtBytes && fileBytes > 2 * liveBytes;
    if (!empty && !bloated) return;
    const lines = this.#index.lines();
    const onSwitch = ({ gen, from, to }: Switch) => {
      this.#index.move(lines, from, to);
      this.#gen = gen;
    };
    // No live line holds the stamp: the new file gets it again, or a restart would forget it.
    const carry = this.#stamp.stamp > 0 ? [{ ...this.#stamp }] : [];
    this.#compaction = this.#log.compact(lines, onSwitch, carry).then(
      () => {
        this.#compaction = null;
        this.compactIfWorthIt(); // everything may have been acked while it ran
      },
      (err: unknown) => {
        // Nothing is lost: the old file still holds every part, and the appends since.
        this.#compaction = null;
        this.#logger?.warn({ err }, 'spool compaction failed');
      },
    );
  }

  /** The part once its put is durable; null if it is not (or no longer, or not that put) here. */
  async #durable(job: string, attempt: number, seq: number): Promise<IndexedPart | null> {
    const part = this.#index.get(job, attempt, seq);
    if (!part) return null;
    if (part.durable) return part;
    await this.#latest;
    const now = this.#index.get(job, attempt, seq);
    return now?.put === part.put && now.durable ? now : null;
  }

  /**
   * The puts that share one fdatasync (all those of one turn) land together: one callback per
   * write, not one closure per part kept alive across the fdatasync.
   */
  #landing(durable: Promise<void>): (string | number)[] {
    const waiting = this.#unlanded.get(durable);
    if (waiting) return waiting;
    const landed: (string | number)[] = [];
    this.#unlanded.set(durable, landed);
    const land = (ok: boolean) => {
      this.#unlanded.delete(durable);
      if (!ok) return;
      for (let i = 0; i < landed.length; i += 4) {
        const [job, attempt, seq, put] = [landed[i], landed[i + 1], landed[i + 2], landed[i + 3]];
        this.#index.land(job as string, attempt as number, seq as number, put as number);
      }
    };
    durable.then(
      () => land(true),
      () => land(false),
    );
    return landed;
  }

  /** Throws unless `line` is the put of part `at`. */
  #checkPut(line: Buffer, at: IndexedPart): void {
    const key = partKey(at.job, at.attempt, at.seq);
    let record: unknown;
    try {
      record = JSON.parse(line.toString('utf8'));
    } catch {
      record = null;
    }
    if (!isPut(record) || partKey(record.put.job, record.put.attempt, record.put.seq) !== key) {
      throw new ScanmeshError(
        'SCANMESH_STORE_FAILED',
        `${this.#path}: part ${key} is not at byte ${at.offset} (${at.bytes} bytes)`,
      );
    }
  }
}

function isPut(record: unknown): record is { put: Data } {
  return isObject(record) && isPartRef((record as { put?: unknown }).put);
}

function isAck(record: unknown): record is { ack: Ack } {
  return isObject(record) && isPartRef((record as { ack?: unknown }).ack);
}

function isStamp(record: unknown): record is Stamp {
  if (!isObject(record)) return false;
  const { stamp, master } = record as Partial<Record<keyof Stamp, unknown>>;
  return Number.isSafeInteger(stamp) && typeof master === 'string';
}

function isPartRef(value: unknown): value is Ack {
  if (!isObject(value)) return false;
  const { job, attempt, seq } = value as Partial<Record<keyof Ack, unknown>>;
  return typeof job === 'string' && typeof attempt === 'number' && typeof seq === 'number';
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
