import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ScanmeshError, isScanmeshError } from '../errors.ts';
import { ensureDir, fsyncDir, writeTmpFile } from './atomic-file.ts';

/**
 * An append-only JSON-lines log that is durable before it says so, and fast because it commits in
 * groups: every append issued while one write+fdatasync is in flight joins the next one, so a
 * burst of a thousand small records costs a few fsyncs instead of a thousand.
 *
 * Ordering: `append` and `rewrite` take their place in the order they are *called* (records are
 * serialised during the call), and appends land in the file in that order.
 *
 * Failure: if a write or fsync fails, the journal is failed for good. That append, every queued
 * one and every later one reject with SCANMESH_STORE_FAILED (`cause` = the I/O error), and
 * `failure` says why. Retrying is not offered on purpose: after a failed fsync Linux may already
 * have dropped the dirty pages, so a retry could "succeed" without the data, and a failed write may
 * have left half a line. Reopening the file is the recovery: it reads back what really is on
 * disk and cuts off any torn tail. A `rewrite` that fails before its rename leaves the journal
 * usable (the old file is untouched); one that fails after it fails the journal.
 */
export interface Journal<T> {
  /** Resolves once these records are written and fdatasynced (unless `fsync: false`). */
  append(records: readonly T[]): Promise<void>;
  /**
   * Atomically replace the whole content once the appends called before it are on disk; appends
   * called after it go to the new file. An array is copied at the call; an iterable is read when
   * the rewrite runs.
   */
  rewrite(records: readonly T[] | Iterable<T> | AsyncIterable<T>): Promise<void>;
  /** Bytes in the file now (written; fsynced unless an append is in flight). */
  readonly sizeBytes: number;
  /** Bytes accepted by `append` but not written yet. */
  readonly pendingBytes: number;
  /** Why the journal stopped accepting writes, or null while it is healthy. */
  readonly failure: ScanmeshError | null;
  /** Waits for queued appends and rewrites, then closes the file. Later appends reject. */
  close(): Promise<void>;
}

export interface LineInfo {
  /** 1-based line number in the file. */
  line: number;
  /** Bytes of the line including its newline. */
  bytes: number;
}

export interface JournalOptions<T> {
  /** fdatasync before appends resolve. Default true; false only for data nobody needs to keep. */
  fsync?: boolean;
  /** Receive existing records one by one instead of in `records` (which then stays empty). */
  onRecord?: (record: T, info: LineInfo) => void;
}

const READ_CHUNK = 1 << 20;
/** A batch stops taking records at this size so one write never needs an unbounded buffer. */
const MAX_BATCH_BYTES = 16 << 20;

/**
 * Open (creating file and parent directories if missing) and read a journal. A torn last line
 * (no trailing newline, or unparsable) is what a crash during an append leaves: it was never
 * acknowledged, so it is dropped and cut from the file, lest the next append glue onto it. An
 * unparsable line anywhere else is corruption and throws SCANMESH_STORE_FAILED naming the file
 * and line. Errors thrown by `onRecord` propagate unchanged.
 */
export async function openJournal<T>(
  path: string,
  options: JournalOptions<T> = {},
): Promise<{ journal: Journal<T>; records: T[] }> {
  const fsync = options.fsync ?? true;
  const records: T[] = [];
  const onRecord = options.onRecord ?? ((record: T) => void records.push(record));
  const handle = await io(path, 'open', async () => {
    await ensureDir(dirname(path));
    return openOrCreate(path);
  });
  try {
    // Left by a rewrite that crashed before its rename: garbage by construction.
    await io(path, 'clean up', () => rm(tmpPathOf(path), { force: true }));
    const size = await load(path, handle, onRecord, fsync);
    return { journal: new FileJournal<T>(path, handle, size, fsync), records };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

async function openOrCreate(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const handle = await open(path, 'wx+');
  // The new name must be durable too, or a power loss could take the file and its fsynced data.
  await fsyncDir(dirname(path));
  return handle;
}

/** Streams the file line by line; returns the length of its valid prefix (truncating the rest). */
async function load<T>(
  path: string,
  handle: FileHandle,
  onRecord: (record: T, info: LineInfo) => void,
  fsync: boolean,
): Promise<number> {
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  let carry: Buffer[] = [];
  let position = 0;
  let valid = 0;
  let line = 0;
  let bad: { line: number; cause: unknown } | undefined;
  for (;;) {
    const { bytesRead } = await io(path, 'read', () =>
      handle.read(chunk, 0, chunk.length, position),
    );
    if (bytesRead === 0) break;
    position += bytesRead;
    const data = chunk.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      // A bad line is forgivable only as the last one, i.e. if no complete line follows it.
      if (bad) throw corrupt(path, bad);
      const text = Buffer.concat([...carry, data.subarray(start, nl)]);
      carry = [];
      start = nl + 1;
      line += 1;
      let record: T;
      try {
        record = JSON.parse(text.toString('utf8')) as T;
      } catch (cause) {
        bad = { line, cause };
        continue;
      }
      valid += text.length + 1;
      onRecord(record, { line, bytes: text.length + 1 });
    }
    if (start < data.length) carry.push(Buffer.from(data.subarray(start)));
  }
  // A bad line followed by an unterminated fragment is not the last line either.
  if (bad && carry.length > 0) throw corrupt(path, bad);
  if (valid < position) {
    await io(path, 'truncate torn tail', async () => {
      await handle.truncate(valid);
      if (fsync) await handle.sync();
    });
  }
  return valid;
}

interface Batch {
  text: string[];
  bytes: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: ScanmeshError) => void;
}

class FileJournal<T> implements Journal<T> {
  readonly #path: string;
  readonly #fsync: boolean;
  #handle: FileHandle;
  #size: number;
  #pending = 0;
  /** The batch still taking appends; null once its write has started. */
  #open: Batch | null = null;
  /** Every write, rewrite and close runs after the previous one: this is the end of that line. */
  #tail: Promise<void> = Promise.resolve();
  #failure: ScanmeshError | null = null;
  #closing: Promise<void> | null = null;

  constructor(path: string, handle: FileHandle, size: number, fsync: boolean) {
    this.#path = path;
    this.#handle = handle;
    this.#size = size;
    this.#fsync = fsync;
  }

  get sizeBytes(): number {
    return this.#size;
  }

  get pendingBytes(): number {
    return this.#pending;
  }

  get failure(): ScanmeshError | null {
    return this.#failure;
  }

  append(records: readonly T[]): Promise<void> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    if (records.length === 0) return Promise.resolve();
    let text = '';
    for (const record of records) {
      // JSON.stringify never emits a raw newline, so one record is always exactly one line.
      const line: unknown = JSON.stringify(record);
      if (typeof line !== 'string') {
        return Promise.reject(storeFailed(`${this.#path}: record is not JSON: ${String(record)}`));
      }
      text += line + '\n';
    }
    const bytes = Buffer.byteLength(text);
    const batch = this.#open ?? this.#startBatch();
    batch.text.push(text);
    batch.bytes += bytes;
    this.#pending += bytes;
    if (batch.bytes >= MAX_BATCH_BYTES) this.#open = null;
    return batch.done;
  }

  rewrite(records: readonly T[] | Iterable<T> | AsyncIterable<T>): Promise<void> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    const source = Array.isArray(records) ? records.slice() : records;
    this.#open = null; // appends called from now on go after the rewrite
    const done = this.#tail.then(() => this.#rewrite(source));
    this.#tail = done.then(noop, noop);
    return done;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#open = null;
    const closed = this.#tail.then(() => this.#handle.close());
    this.#tail = closed.then(noop, noop);
    await io(this.#path, 'close', () => closed);
  }

  #refusal(): ScanmeshError | null {
    if (this.#failure) return this.#failure;
    if (this.#closing) return storeFailed(`journal ${this.#path} is closed`);
    return null;
  }

  #startBatch(): Batch {
    let resolve!: () => void;
    let reject!: (err: ScanmeshError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = { text: [], bytes: 0, done, resolve, reject };
    this.#open = batch;
    // Deferred to a later turn, so every append of the current synchronous burst joins it. No
    // timer: a lone record (one job in flight) is written at once, and records arriving during
    // that write+fdatasync gather for the next one.
    this.#tail = this.#tail.then(() => this.#flush(batch));
    return batch;
  }

  async #flush(batch: Batch): Promise<void> {
    if (this.#open === batch) this.#open = null;
    try {
      if (this.#failure) return batch.reject(this.#failure);
      const buffer = Buffer.from(batch.text.join(''));
      await writeAll(this.#handle, buffer, this.#size);
      this.#size += buffer.length;
      if (this.#fsync) await this.#handle.datasync();
    } catch (err) {
      return batch.reject(this.#fail('append', err));
    } finally {
      this.#pending -= batch.bytes;
    }
    batch.resolve();
  }

  async #rewrite(records: Iterable<T> | AsyncIterable<T>): Promise<void> {
    if (this.#failure) throw this.#failure;
    const tmp = tmpPathOf(this.#path);
    let size = 0;
    try {
      await writeTmpFile(tmp, async (handle) => {
        size = await writeRecords(handle, records);
      });
      await rename(tmp, this.#path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(noop);
      // The old file is intact and our handle still points at it: stay usable.
      throw storeFailed(`journal ${this.#path}: rewrite failed: ${String(err)}`, err);
    }
    try {
      const old = this.#handle;
      this.#handle = await open(this.#path, 'r+');
      this.#size = size;
      await old.close();
      await fsyncDir(dirname(this.#path));
    } catch (err) {
      throw this.#fail('rewrite', err);
    }
  }

  #fail(what: string, cause: unknown): ScanmeshError {
    this.#failure ??= storeFailed(
      `journal ${this.#path}: ${what} failed, no further writes; reopen to recover: ${String(cause)}`,
      cause,
    );
    return this.#failure;
  }
}

/** Streams records into the file in chunks of about a megabyte; returns the bytes written. */
async function writeRecords<T>(
  handle: FileHandle,
  records: Iterable<T> | AsyncIterable<T>,
): Promise<number> {
  let text = '';
  let total = 0;
  const put = async (): Promise<void> => {
    const buffer = Buffer.from(text);
    await writeAll(handle, buffer, total);
    total += buffer.length;
    text = '';
  };
  for await (const record of records) {
    const line: unknown = JSON.stringify(record);
    if (typeof line !== 'string') throw new TypeError(`record is not JSON: ${String(record)}`);
    text += line + '\n';
    if (text.length >= READ_CHUNK) await put();
  }
  if (text.length > 0) await put();
  return total;
}

/** `write` may write less than asked (disk nearly full, signals); loop until all is written. */
async function writeAll(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < buffer.length;) {
    const { bytesWritten } = await handle.write(
      buffer,
      offset,
      buffer.length - offset,
      position + offset,
    );
    if (bytesWritten === 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

function tmpPathOf(path: string): string {
  return `${path}.rewrite.tmp`;
}

function corrupt(path: string, bad: { line: number; cause: unknown }): ScanmeshError {
  return storeFailed(
    `journal ${path} is corrupt at line ${bad.line}: not JSON, and not the last line`,
    bad.cause,
  );
}

async function io<R>(path: string, what: string, action: () => Promise<R>): Promise<R> {
  try {
    return await action();
  } catch (err) {
    if (isScanmeshError(err)) throw err;
    throw storeFailed(`journal ${path}: ${what} failed: ${String(err)}`, err);
  }
}

function storeFailed(message: string, cause?: unknown): ScanmeshError {
  return new ScanmeshError('SCANMESH_STORE_FAILED', message, { cause });
}

function noop(): void {}
