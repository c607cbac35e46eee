import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A directory whose new files become durable with as few fsyncs in a row as the rules allow.
 *
 * A file is durable once its bytes and its name are: an fsync of the file, and an fsync of the
 * directory that *started* after the name was created. `writeFile` creates the file under its final
 * name and runs the two at once, where an atomic replace (atomic-file.ts) needs three steps in a
 * row (fsync the temporary file, rename, fsync the directory). Directory fsyncs are group-committed:
 * one fsync covers every name created before it started, so a burst of files costs one or two.
 *
 * The price is that the write is not atomic: a crash can leave an empty or partial file under the
 * final name. Use it only for files that nothing reads until a record written after `writeFile`
 * resolved points at them (the master's results files and their `ended` records): a leftover then
 * has no such record, is never read, and the next write of that name truncates it.
 *
 * Failure: a failed directory fsync rejects every caller it covered, and every later one. Linux may
 * report a failed writeback once and then forget it, so a retry could "succeed" without the names.
 */
export interface DurableDir {
  readonly path: string;
  /** Create or truncate `name`, write `data`; resolves once bytes and name are durable. */
  writeFile(name: string, data: string | Buffer): Promise<void>;
  /** Resolves once every name created in the directory before the call is durable. */
  sync(): Promise<void>;
  /** Waits for the fsync in flight and the one queued, then closes. Later calls reject. */
  close(): Promise<void>;
}

/** Opens an existing directory (its own name must already be durable: see `ensureDir`). */
export async function openDurableDir(path: string): Promise<DurableDir> {
  // Windows cannot open a directory for fsync and orders metadata itself (see fsyncDir).
  const handle = process.platform === 'win32' ? null : await open(path, 'r');
  return new GroupDir(path, handle);
}

class GroupDir implements DurableDir {
  readonly path: string;
  readonly #handle: FileHandle | null;
  /** The fsync in flight: names created after it started need the next one. */
  #running: Promise<void> | null = null;
  /** The next fsync, shared by every caller that arrived while one was in flight. */
  #next: Promise<void> | null = null;
  #failure: unknown = null;
  #closing: Promise<void> | null = null;

  constructor(path: string, handle: FileHandle | null) {
    this.path = path;
    this.#handle = handle;
  }

  async writeFile(name: string, data: string | Buffer): Promise<void> {
    const path = join(this.path, name);
    try {
      const handle = await open(path, 'w');
      // The name exists from here on, so this fsync (it starts later) covers it; it runs while
      // the bytes are written and synced.
      const named = this.sync();
      named.catch(noop); // awaited below, after the file's own steps
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await named;
    } catch (err) {
      // Nothing points at the file yet; removing it keeps a failed write from leaving litter.
      await rm(path, { force: true }).catch(noop);
      throw err;
    }
  }

  sync(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new Error(`${this.path} is closed`));
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    this.#next = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    return this.#next;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await (this.#next ?? this.#running)?.catch(noop);
    await this.#handle?.close();
  }

  #start(): Promise<void> {
    this.#next = null;
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const run: Promise<void> = (this.#handle?.sync() ?? Promise.resolve()).then(
      () => {
        if (this.#running === run) this.#running = null;
      },
      (err: unknown) => {
        this.#failure ??= err;
        if (this.#running === run) this.#running = null;
        throw this.#failure;
      },
    );
    this.#running = run;
    return run;
  }
}

function noop(): void {}
