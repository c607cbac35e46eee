import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import { ensureDir, writeFileAtomic } from '../storage/atomic-file.ts';
import { openJournal, type Journal } from '../storage/journal.ts';
import type { MasterRecord } from './core/types.ts';

/**
 * The master's durable state under --state-dir:
 *   journal.jsonl            every fact the core persisted (group-committed, fsynced)
 *   results/<job>~<n>.json   each ended attempt with its hosts, written before its `ended` record
 *   dead/                    results InfluxDB refused for good (kept for a person to look at)
 * The outbox is the set of ended attempts without a `written` record: small references only, the
 * hosts stay on disk until the writer reads them.
 */
export interface StoredResult {
  record: AttemptRecord;
  hosts: HostResult[];
}

export class MasterStore {
  /** Attempts stored but not yet in InfluxDB, oldest first. */
  readonly outbox = new Map<string, AttemptRecord>();
  private journal: Journal<MasterRecord>;
  private readonly dir: string;
  private readonly keepOutbox: boolean;

  private constructor(dir: string, journal: Journal<MasterRecord>, keepOutbox: boolean) {
    this.dir = dir;
    this.journal = journal;
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
    const { journal } = await openJournal<MasterRecord>(join(dir, 'journal.jsonl'), {
      onRecord: (r) => {
        if (r.t === 'ended' && keepOutbox)
          outbox.set(key(r.record.job, r.record.attempt), r.record);
        if (r.t === 'written') outbox.delete(key(r.job, r.attempt));
        onRecord(r);
      },
    });
    const store = new MasterStore(dir, journal, keepOutbox);
    for (const [k, v] of outbox) store.outbox.set(k, v);
    return store;
  }

  append(records: readonly MasterRecord[]): Promise<void> {
    return this.journal.append(records);
  }

  /** File an ended attempt: results file first, then the `ended` record that points at it. */
  async finish(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void> {
    await writeFileAtomic(this.resultPath(record), JSON.stringify({ record, hosts }));
    await this.journal.append([{ t: 'ended', record }]);
    if (this.keepOutbox) this.outbox.set(key(record.job, record.attempt), record);
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
    const to = join(this.dir, 'dead', fileName(record));
    await rename(this.resultPath(record), to);
    await this.markWritten([record]);
    return to;
  }

  /** Failed attempts keep no hosts worth filing once their `scan` point is written. */
  async dropFailedResult(record: AttemptRecord): Promise<void> {
    if (record.status !== 'completed') await rm(this.resultPath(record), { force: true });
  }

  /** Replace the journal by the core's snapshot plus the outbox, so it does not grow forever. */
  async compact(snapshot: readonly MasterRecord[]): Promise<void> {
    const pending: MasterRecord[] = [...this.outbox.values()].map((record) => ({
      t: 'ended',
      record,
    }));
    await this.journal.rewrite([...snapshot, ...pending]);
  }

  get journalBytes(): number {
    return this.journal.sizeBytes;
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private resultPath(record: AttemptRecord): string {
    return join(this.dir, 'results', fileName(record));
  }
}

function key(job: string, attempt: number): string {
  return `${job}#${attempt}`;
}

function fileName(record: AttemptRecord): string {
  return `${record.job}~${record.attempt}.json`;
}
