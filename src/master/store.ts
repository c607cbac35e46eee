import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import { ScanmeshError } from '../errors.ts';
import { ensureDir } from '../storage/atomic-file.ts';
import { exists } from '../storage/exists.ts';
import { openDurableDir, type DurableDir } from '../storage/durable-dir.ts';
import { openJournal, type Journal } from '../storage/journal.ts';
import type { MasterRecord } from './core/types.ts';
import { deadPath, resultFileName, resultPath, type StoredResult } from './result-files.ts';

export type { StoredResult } from './result-files.ts';

/**
 * The master's durable state under --state-dir:
 *   journal.jsonl            every fact the core persisted (group-committed, fsynced)
 *   results/<job>~<n>.json   each ended attempt with its hosts, durable before its `ended` record
 *   dead/                    results InfluxDB refused for good (kept for a person to look at)
 *   changes/, history.jsonl  what each completed attempt changed, and each host's results over
 *                            time (master/deltas)
 * Two queues, small references only (the hosts stay on disk): ended attempts without a `compared`
 * record wait for the delta stage, and those without a `written` record (the outbox) for InfluxDB.
 * An attempt goes to InfluxDB only once compared, so its `port_change` points go with it.
 *
 * Results files are written in place, not replaced atomically (durable-dir.ts): the file's fsync
 * and the directory's run at once, so an attempt's end waits for two fsyncs in a row before its
 * `ended` record is durable instead of three (and no rename). That is safe because every
 * reader reaches a results file through its `ended` record (the outbox, the delta stage, and the
 * history that only compared attempts enter), and `ended` is appended only once the file's bytes
 * and name are durable. A crash before that leaves a file, whole, partial or empty, that no
 * durable record names: never read, and truncated when the restarted master files that attempt
 * again (its parts are in the journal or still in the worker's spool). Filing never rewrites an
 * attempt whose `ended` record exists: the core ends each attempt once, also across restarts.
 */
export class MasterStore {
  /** Attempts stored but not yet in InfluxDB, oldest first. */
  readonly outbox = new Map<string, AttemptRecord>();
  /** Attempts stored but not yet compared with earlier results, oldest first. */
  readonly uncompared = new Map<string, AttemptRecord>();
  private journal: Journal<MasterRecord>;
  private readonly dir: string;
  private readonly results: DurableDir;
  private readonly keepOutbox: boolean;

  private constructor(
    dir: string,
    journal: Journal<MasterRecord>,
    results: DurableDir,
    keepOutbox: boolean,
  ) {
    this.dir = dir;
    this.journal = journal;
    this.results = results;
    this.keepOutbox = keepOutbox;
  }

  /**
   * Open the store and stream its journal into `onRecord`. `keepOutbox` is false when no InfluxDB
   * is configured: results are still filed, but nothing waits to be written.
   */
  static async open(
    dir: string,
    keepOutbox: boolean,
    onRecord: (record: MasterRecord) => void,
  ): Promise<MasterStore> {
    await ensureDir(join(dir, 'results'));
    const outbox = new Map<string, AttemptRecord>();
    const uncompared = new Map<string, AttemptRecord>();
    const { journal } = await openJournal<MasterRecord>(join(dir, 'journal.jsonl'), {
      onRecord: (r) => {
        if (r.t === 'ended') {
          const k = key(r.record.job, r.record.attempt);
          if (keepOutbox) outbox.set(k, r.record);
          uncompared.set(k, r.record);
        }
        if (r.t === 'written') outbox.delete(key(r.job, r.attempt));
        if (r.t === 'compared') uncompared.delete(key(r.job, r.attempt));
        onRecord(r);
      },
    });
    const results = await openDurableDir(join(dir, 'results')).catch(async (err: unknown) => {
      await journal.close();
      throw storeFailed(`could not open ${join(dir, 'results')}: ${String(err)}`, err);
    });
    const store = new MasterStore(dir, journal, results, keepOutbox);
    for (const [k, v] of outbox) store.outbox.set(k, v);
    for (const [k, v] of uncompared) store.uncompared.set(k, v);
    return store;
  }

  append(records: readonly MasterRecord[]): Promise<void> {
    return this.journal.append(records);
  }

  /**
   * File an ended attempt: its results file (durable) first, then the `ended` record that points
   * at it. Split in two so that the master writes many files at once while keeping its journal in
   * order (effects-runner.ts).
   */
  async finish(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void> {
    await this.writeResult(record, hosts);
    await this.ended(record);
  }

  /** Resolves once the file's bytes and name are durable (see the class comment). */
  async writeResult(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void> {
    const name = resultFileName(record.job, record.attempt);
    try {
      await this.results.writeFile(name, JSON.stringify({ record, hosts }));
    } catch (err) {
      throw storeFailed(`could not write ${this.resultPath(record)}: ${String(err)}`, err);
    }
  }

  /** Appends the `ended` record (issued at the call); resolves once it is durable. */
  async ended(record: AttemptRecord): Promise<void> {
    await this.journal.append([{ t: 'ended', record }]);
    const k = key(record.job, record.attempt);
    this.uncompared.set(k, record);
    if (this.keepOutbox) this.outbox.set(k, record);
  }

  get stateDir(): string {
    return this.dir;
  }

  /** Whether the attempt may go to InfluxDB: its changes are known (see the class comment). */
  isCompared(record: AttemptRecord): boolean {
    return !this.uncompared.has(key(record.job, record.attempt));
  }

  /** One journal append for a batch; resolves once every record is durable. */
  async markCompared(records: readonly AttemptRecord[]): Promise<void> {
    const compared = this.journal.append(
      records.map((r) => ({ t: 'compared', job: r.job, attempt: r.attempt })),
    );
    // At the call, for the reason markWritten gives.
    for (const r of records) this.uncompared.delete(key(r.job, r.attempt));
    await compared;
  }

  async readResult(record: AttemptRecord): Promise<StoredResult> {
    return JSON.parse(await readFile(this.resultPath(record), 'utf8')) as StoredResult;
  }

  async markWritten(records: readonly AttemptRecord[]): Promise<void> {
    const written = this.journal.append(
      records.map((r) => ({ t: 'written', job: r.job, attempt: r.attempt })),
    );
    // Leave the outbox at the call, not once the append is durable: a `compact` called meanwhile
    // is ordered after this append, so its rewrite drops these `written` records, and must then
    // drop their `ended` records too. Were they still in the outbox, the rewrite would keep them
    // as pending with no `written` left, and no writer would ever come back for them.
    for (const r of records) this.outbox.delete(key(r.job, r.attempt));
    await written;
  }

  /** Set a result InfluxDB will never accept aside, so it stops blocking the outbox. */
  async markDead(record: AttemptRecord): Promise<string> {
    await ensureDir(join(this.dir, 'dead'));
    const to = deadPath(this.dir, record.job, record.attempt);
    await rename(this.resultPath(record), to);
    await this.markWritten([record]);
    return to;
  }

  /**
   * True when the attempt's results file is in dead/ and no longer in results/: `markDead` got
   * as far as its rename, and a crash came before its `written` record was durable.
   */
  async isSetAside(record: AttemptRecord): Promise<boolean> {
    const dead = await exists(deadPath(this.dir, record.job, record.attempt));
    return dead && !(await exists(this.resultPath(record)));
  }

  /** Failed attempts keep no hosts worth filing once their `scan` point is written. */
  async dropFailedResult(record: AttemptRecord): Promise<void> {
    if (record.status !== 'completed') await rm(this.resultPath(record), { force: true });
  }

  /** Replace the journal by the core's snapshot plus the outbox, so it does not grow forever. */
  async compact(snapshot: readonly MasterRecord[]): Promise<void> {
    const pending: MasterRecord[] = [];
    for (const [k, record] of this.uncompared) {
      pending.push({ t: 'ended', record });
      if (!this.outbox.has(k))
        pending.push({ t: 'written', job: record.job, attempt: record.attempt });
    }
    for (const [k, record] of this.outbox) {
      if (this.uncompared.has(k)) continue;
      pending.push({ t: 'ended', record });
      pending.push({ t: 'compared', job: record.job, attempt: record.attempt });
    }
    await this.journal.rewrite([...snapshot, ...pending]);
  }

  get journalBytes(): number {
    return this.journal.sizeBytes;
  }

  async close(): Promise<void> {
    try {
      await this.journal.close();
    } finally {
      await this.results.close();
    }
  }

  private resultPath(record: AttemptRecord): string {
    return resultPath(this.dir, record.job, record.attempt);
  }
}

function storeFailed(message: string, cause: unknown): ScanmeshError {
  return new ScanmeshError('SCANMESH_STORE_FAILED', message, { cause });
}

function key(job: string, attempt: number): string {
  return `${job}#${attempt}`;
}
