import { readSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { ScanmeshError } from '../errors.ts';
import { renameDurably } from '../storage/atomic-file.ts';
import { openJournal, type LineInfo } from '../storage/journal.ts';
import type { LineColumns } from './spool-index.ts';

/** Where one line lies in one generation of the file. */
export interface Span {
  offset: number;
  /** Bytes of the line including its newline. */
  bytes: number;
}

export interface Appended extends Span {
  /** Resolves once the line is fdatasynced (and its file's name durable). */
  durable: Promise<void>;
}

/** Lines at or after `from` in the old generation are at `offset - from + to` in `gen`. */
export interface Switch {
  gen: number;
  from: number;
  to: number;
}

interface Generation {
  gen: number;
  handle: FileHandle;
  /** Reads and fsyncs running on it: a retired generation is closed when the last one ends. */
  users: number;
  retired: boolean;
}

interface Batch {
  done: Promise<void>;
  resolve(): void;
  reject(err: ScanmeshError): void;
}

/** A compaction copies in chunks of this much. */
const COPY_CHUNK_BYTES = 1 << 20;
/** What a compaction copies synchronously at its end, while nothing may be appended. */
const CATCH_UP_SYNC_BYTES = 256 * 1024;
/** A turn's lines up to this size are written from one reused buffer; a larger turn gets its own. */
const SCRATCH_BYTES = 256 * 1024;

/**
 * The spool's file: JSON lines, appended and read back by offset, rewritten by compaction.
 *
 * Why not the shared journal (src/storage/journal.ts): it keeps each line as a string until the
 * previous fdatasync ends. At nmap's pace (thousands of hosts a second) those strings outlive
 * V8's young generation and pile up in the old one: the whole output passes through the heap
 * and peak memory grows with the scan. Here a line is written into the page cache in the turn
 * it was appended (one synchronous write per turn, microseconds), and only the fdatasync is
 * asynchronous and shared by every line written before it started. A disk too slow for that
 * write blocks the event loop, so nmap's output is not read meanwhile: the only thing that
 * ever holds nmap back, and only then.
 *
 * A part is read back the same way, synchronously, when its turn to be sent comes: it was
 * written moments or minutes before and is in the page cache, so the read is a copy of a few
 * microseconds. A read through the thread pool cost the event loop 20–80 µs a part in promise,
 * request and thread wake-up: a fifth of the worker's CPU in figure 4. A part that has left the
 * cache (a spool read back after a reboot) blocks for one disk read.
 *
 * Generations: a compaction copies the live lines into a new file, then catches up with what
 * was appended meanwhile, switches appends to it and renames it over the old one. Each
 * generation's handle stays open for the reads that started on it.
 */
export class SpoolLog<T> {
  readonly #path: string;
  readonly #fsync: boolean;
  readonly #gens = new Map<number, Generation>();
  #current: Generation;
  /** Bytes of the current generation, appended lines not yet written included. */
  #size: number;
  #written: number;
  #pending: string[] = [];
  /** UTF-8 bytes of `#pending`. */
  #pendingBytes = 0;
  /** Where a turn's lines are written before they go to the file, reused from turn to turn. */
  #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  #batch: Batch | null = null;
  /** Written and waiting for an fdatasync. */
  #unsynced: Batch[] = [];
  /** The last batch written: what `close` waits for. */
  #last: Promise<void> = Promise.resolve();
  #syncing = false;
  /** The last switch's rename, durable: lines in the new file count only once it is. */
  #renamed: Promise<void> = Promise.resolve();
  #compacting = false;
  #failure: ScanmeshError | null = null;
  #closed = false;

  /**
   * Reads the file through the journal's loader (the same checks: a torn last line is cut off,
   * corruption elsewhere throws SCANMESH_STORE_FAILED), then appends to it itself.
   */
  static async open<T>(
    path: string,
    options: { fsync: boolean; onRecord(record: T, info: LineInfo): void },
  ): Promise<SpoolLog<T>> {
    const { journal } = await openJournal<T>(path, options);
    const size = journal.sizeBytes;
    await journal.close();
    const handle = await open(path, 'r+').catch((err: unknown) => {
      throw storeFailed(`${path}: cannot open: ${String(err)}`, err);
    });
    return new SpoolLog<T>(path, handle, size, options.fsync);
  }

  private constructor(path: string, handle: FileHandle, size: number, fsync: boolean) {
    this.#path = path;
    this.#fsync = fsync;
    this.#current = { gen: 0, handle, users: 0, retired: false };
    this.#gens.set(0, this.#current);
    this.#size = size;
    this.#written = size;
  }

  /** Bytes in the current generation, including what was appended in this turn. */
  get size(): number {
    return this.#size;
  }

  get failure(): ScanmeshError | null {
    return this.#failure;
  }

  append(record: T): Appended {
    const refused = this.#failure ?? (this.#closed ? storeFailed(`${this.#path} is closed`) : null);
    if (refused) return { offset: 0, bytes: 0, durable: rejected(refused) };
    // JSON.stringify never emits a raw newline, so one record is always exactly one line.
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    const offset = this.#size;
    this.#size += bytes;
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    if (!this.#batch) {
      this.#batch = newBatch();
      queueMicrotask(() => this.#flush());
    }
    return { offset, bytes, durable: this.#batch.done };
  }

  read(gen: number, span: Span): Buffer {
    const g = this.#acquire(gen);
    try {
      // Its own memory, not a slice of a shared pool slab: it may wait on the wire for an ack.
      const line = Buffer.allocUnsafeSlow(span.bytes);
      readAllSync(g.handle.fd, line, span.offset, this.#path);
      return line;
    } finally {
      this.#release(g);
    }
  }

  /**
   * Rewrites the file with only `live` (lines of the current generation, in file order) and what
   * is appended while it runs; `onSwitch` is called in the turn appends move to the new file, so
   * the caller can move its offsets before anything else reads them. It rejects, leaving the old
   * file in use, if the copy fails; a failure after the switch fails the log for good.
   * `carry`: records that no live line holds but the new file must (the spool's JOB stamp).
   */
  async compact(
    live: LineColumns,
    onSwitch: (moved: Switch) => void,
    carry: readonly T[] = [],
  ): Promise<void> {
    if (this.#compacting) throw new Error('one compaction at a time');
    this.#compacting = true;
    this.#flush();
    const old = this.#acquire(this.#current.gen);
    const from = this.#written;
    // Appended after `from`, so the catch-up below copies them into the new file. A failure to
    // write them fails the log, which the compaction then reports.
    for (const record of carry) this.append(record).durable.catch(() => undefined);
    const tmpPath = `${this.#path}.rewrite.tmp`; // the journal's loader removes one a crash left
    let tmp: FileHandle | null = null;
    let switched = false;
    try {
      if (this.#failure) throw this.#failure;
      tmp = await open(tmpPath, 'w+');
      const to = await copyLines(old.handle, tmp, live, this.#path);
      let copied = from;
      let at = to;
      while (this.#written - copied > CATCH_UP_SYNC_BYTES) {
        const end = this.#written;
        await copyRange(old.handle, tmp, copied, end, at, this.#path);
        at += end - copied;
        copied = end;
      }
      if (this.#failure) throw this.#failure;
      // From here to the switch in one turn: nothing can be appended to the old file after it.
      this.#flush();
      copyRangeSync(old.handle.fd, tmp.fd, copied, this.#written, at);
      const next: Generation = { gen: old.gen + 1, handle: tmp, users: 0, retired: false };
      this.#gens.set(next.gen, next);
      this.#current = next;
      this.#size = this.#written = to + (this.#written - from);
      switched = true;
      onSwitch({ gen: next.gen, from, to });
      old.retired = true;
      const renaming = tmp.datasync().then(() => renameDurably(tmpPath, this.#path));
      this.#renamed = renaming.catch((err: unknown) => {
        throw this.#fail('compaction (rename)', err);
      });
      this.#renamed.catch(() => undefined); // its waiters see the failure
      await this.#renamed;
    } catch (err) {
      if (switched) throw this.#fail('compaction', err);
      await tmp?.close().catch(() => undefined);
      await rm(tmpPath, { force: true }).catch(() => undefined);
      throw storeFailed(`${this.#path}: compaction failed: ${String(err)}`, err);
    } finally {
      this.#release(old);
      this.#compacting = false;
    }
  }

  /** Waits for what was appended to be durable, then closes every generation. */
  async close(): Promise<void> {
    this.#flush();
    this.#closed = true;
    await this.#last.catch(() => undefined);
    for (const g of this.#gens.values()) g.retired = true;
    await Promise.all(
      [...this.#gens.values()].filter((g) => g.users === 0).map((g) => this.#close(g)),
    );
  }

  /** Writes this turn's lines: into the page cache, so they leave the heap at once. */
  #flush(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = null;
    const text = this.#encodePending();
    if (this.#failure) return batch.reject(this.#failure);
    try {
      writeAllSync(this.#current.handle.fd, text, this.#written);
    } catch (err) {
      return batch.reject(this.#fail('write', err));
    }
    this.#written += text.length;
    this.#unsynced.push(batch);
    this.#last = batch.done;
    if (!this.#syncing) void this.#sync();
  }

  /**
   * This turn's lines as UTF-8, in the scratch buffer when they fit: a joined string and a
   * buffer per turn would be garbage as large as nmap's output, left for the next GC.
   */
  #encodePending(): Buffer {
    const into =
      this.#pendingBytes <= this.#scratch.length
        ? this.#scratch
        : Buffer.allocUnsafeSlow(this.#pendingBytes);
    let at = 0;
    for (const line of this.#pending) at += into.write(line, at);
    this.#pending = [];
    this.#pendingBytes = 0;
    return into.subarray(0, at);
  }

  /** fdatasyncs in rounds: each covers every batch written before it started. */
  async #sync(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#unsynced.length > 0 && !this.#failure) {
        const round = this.#unsynced;
        this.#unsynced = [];
        try {
          // Lines copied into a new file are durable only once its rename is.
          for (let renamed = this.#renamed; ; renamed = this.#renamed) {
            await renamed;
            if (renamed === this.#renamed) break;
          }
          const g = this.#acquire(this.#current.gen);
          try {
            if (this.#fsync) await g.handle.datasync();
          } finally {
            this.#release(g);
          }
        } catch (err) {
          const failure = this.#fail('fdatasync', err);
          for (const batch of round) batch.reject(failure);
          return;
        }
        for (const batch of round) batch.resolve();
      }
    } finally {
      this.#syncing = false;
    }
  }

  #acquire(gen: number): Generation {
    const g = this.#gens.get(gen);
    if (!g) throw storeFailed(`${this.#path}: generation ${gen} of the file is closed`);
    g.users += 1;
    return g;
  }

  #release(g: Generation): void {
    g.users -= 1;
    if (g.retired && g.users === 0) void this.#close(g);
  }

  async #close(g: Generation): Promise<void> {
    if (this.#gens.get(g.gen) !== g) return;
    this.#gens.delete(g.gen);
    await g.handle.close().catch(() => undefined);
  }

  /** Failed for good, as the journal: after a failed write or fsync nothing on disk is certain. */
  #fail(what: string, cause: unknown): ScanmeshError {
    if (!this.#failure) {
      this.#failure = isStoreFailed(cause)
        ? cause
        : storeFailed(`${this.#path}: ${what} failed, no further writes: ${String(cause)}`, cause);
      this.#batch?.reject(this.#failure);
      this.#batch = null;
      for (const batch of this.#unsynced.splice(0)) batch.reject(this.#failure);
    }
    return this.#failure;
  }
}

/** Copies `lines` back to back into `to` from 0, checking each ends a line; returns the bytes. */
async function copyLines(
  from: FileHandle,
  to: FileHandle,
  lines: LineColumns,
  path: string,
): Promise<number> {
  const { offsets, sizes } = lines;
  let at = 0;
  let i = 0;
  const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  while (i < offsets.length) {
    // The longest run of adjacent lines that fits in a chunk (or one line bigger than a chunk).
    const start = offsets[i]!;
    let end = start + sizes[i]!;
    let j = i + 1;
    for (; j < offsets.length && offsets[j] === end; j++) {
      if (end + sizes[j]! - start > COPY_CHUNK_BYTES) break;
      end += sizes[j]!;
    }
    const buffer = end - start > chunk.length ? Buffer.allocUnsafe(end - start) : chunk;
    const data = buffer.subarray(0, end - start);
    await readAt(from, data, start, data.length, path);
    for (let k = i; k < j; k++) {
      const last = offsets[k]! + sizes[k]! - 1 - start;
      if (data[last] !== 10) {
        throw storeFailed(`${path}: no line ends at byte ${last + start}: the index is wrong`);
      }
    }
    await writeAt(to, data, at);
    at += data.length;
    i = j;
  }
  return at;
}

async function copyRange(
  from: FileHandle,
  to: FileHandle,
  start: number,
  end: number,
  at: number,
  path: string,
): Promise<void> {
  const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, end - start));
  for (let pos = start; pos < end; pos += chunk.length) {
    const data = chunk.subarray(0, Math.min(chunk.length, end - pos));
    await readAt(from, data, pos, data.length, path);
    await writeAt(to, data, at + pos - start);
  }
}

/** Fills `buffer` from the file at `position`, or throws. */
function readAllSync(fd: number, buffer: Buffer, position: number, path: string): void {
  for (let got = 0; got < buffer.length;) {
    let n: number;
    try {
      n = readSync(fd, buffer, got, buffer.length - got, position + got);
    } catch (err) {
      throw storeFailed(`${path}: read at ${position} failed: ${String(err)}`, err);
    }
    if (n === 0) {
      throw storeFailed(`${path}: the file ends before byte ${position + buffer.length}`);
    }
    got += n;
  }
}

function copyRangeSync(from: number, to: number, start: number, end: number, at: number): void {
  if (end <= start) return;
  const data = Buffer.allocUnsafe(end - start);
  for (let got = 0; got < data.length;) {
    const n = readSync(from, data, got, data.length - got, start + got);
    if (n === 0) throw new Error(`the file ends before byte ${end}`);
    got += n;
  }
  writeAllSync(to, data, at);
}

/** Reads `atLeast` bytes (up to `buffer.length`) at `position`, or throws. */
async function readAt(
  handle: FileHandle,
  buffer: Buffer,
  position: number,
  atLeast: number,
  path: string,
): Promise<void> {
  let got = 0;
  try {
    while (got < atLeast) {
      const { bytesRead } = await handle.read(buffer, got, buffer.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
  } catch (err) {
    throw storeFailed(`${path}: read at ${position} failed: ${String(err)}`, err);
  }
  if (got < atLeast) throw storeFailed(`${path}: the file ends before byte ${position + atLeast}`);
}

async function writeAt(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}

/** `write` may write less than asked (disk nearly full, signals); loop until all is written. */
function writeAllSync(fd: number, data: Buffer, position: number): void {
  for (let done = 0; done < data.length;) {
    const n = writeSync(fd, data, done, data.length - done, position + done);
    if (n === 0) throw new Error('write made no progress');
    done += n;
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: ScanmeshError) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => undefined); // each caller sees the rejection through its own await
  return { done, resolve, reject };
}

function rejected(err: ScanmeshError): Promise<void> {
  const p = Promise.reject(err);
  p.catch(() => undefined);
  return p;
}

function isStoreFailed(err: unknown): err is ScanmeshError {
  return err instanceof ScanmeshError && err.code === 'SCANMESH_STORE_FAILED';
}

function storeFailed(message: string, cause?: unknown): ScanmeshError {
  return new ScanmeshError('SCANMESH_STORE_FAILED', message, { cause });
}
