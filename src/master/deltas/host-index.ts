import { readHistory, type HistoryEntry } from './history-file.ts';

/** One stored result of a host: the attempt it is in, and whether that attempt saw it up. */
export interface HostRef {
  job: string;
  attempt: number;
  up: boolean;
}

/** How many results per host the index keeps: the latest, and the one before for recovery. */
const KEEP = 2;

/**
 * Each host's latest stored results, in memory, rebuilt from history.jsonl on start. The master
 * compares a new result with `previous(host, attempt)`: the latest result of the host from any
 * other attempt. Skipping the attempt itself is what makes comparing again after a crash (its
 * history line written, its `compared` record not) give the same answer as the first time.
 */
export class HostIndex {
  private readonly hosts = new Map<string, HostRef[]>();
  private readonly attempts = new Set<string>();

  static async load(stateDir: string): Promise<HostIndex> {
    const index = new HostIndex();
    for await (const entry of readHistory(stateDir)) index.add(entry);
    return index;
  }

  get size(): number {
    return this.hosts.size;
  }

  has(job: string, attempt: number): boolean {
    return this.attempts.has(key(job, attempt));
  }

  add(entry: Pick<HistoryEntry, 'job' | 'attempt' | 'up' | 'down'>): void {
    const k = key(entry.job, entry.attempt);
    if (this.attempts.has(k)) return;
    this.attempts.add(k);
    const push = (address: string, up: boolean) => {
      const refs = this.hosts.get(address) ?? [];
      refs.push({ job: entry.job, attempt: entry.attempt, up });
      if (refs.length > KEEP) refs.shift();
      this.hosts.set(address, refs);
    };
    for (const address of entry.up) push(address, true);
    for (const address of entry.down) push(address, false);
  }

  /** The host's latest result outside the given attempt, if any. */
  previous(address: string, job: string, attempt: number): HostRef | undefined {
    const refs = this.hosts.get(address) ?? [];
    for (let i = refs.length - 1; i >= 0; i--) {
      const ref = refs[i] as HostRef;
      if (ref.job !== job || ref.attempt !== attempt) return ref;
    }
    return undefined;
  }

  /** Every host the index knows, for finding hosts a new run left out. */
  addresses(): IterableIterator<string> {
    return this.hosts.keys();
  }

  knows(address: string): boolean {
    return this.hosts.has(address);
  }
}

/** What comparing an attempt asks of the index. */
export interface HostLookup {
  previous(address: string, job: string, attempt: number): HostRef | undefined;
  addresses(): Iterable<string>;
}

/**
 * The index as it will be once a batch's earlier attempts are in it, without touching it: the
 * delta stage compares a batch before any of its history lines are durable, and the index must
 * gain an attempt only with its line, or a failed batch would leave attempts in it that a retry
 * then compares against. Answers as the index would after the same `add`s: the latest other ref
 * of a host is the latest other ref of the batch's, else of the index's (at most one of the last
 * two is the attempt asked about, so keeping two per host loses nothing here either).
 */
export class PendingIndex implements HostLookup {
  private readonly base: HostIndex;
  private readonly added = new HostIndex();

  constructor(base: HostIndex) {
    this.base = base;
  }

  add(entry: Pick<HistoryEntry, 'job' | 'attempt' | 'up' | 'down'>): void {
    if (!this.base.has(entry.job, entry.attempt)) this.added.add(entry);
  }

  previous(address: string, job: string, attempt: number): HostRef | undefined {
    return this.added.previous(address, job, attempt) ?? this.base.previous(address, job, attempt);
  }

  /** The index's hosts, then the batch's new ones: the order the index will list them in. */
  *addresses(): Iterable<string> {
    yield* this.base.addresses();
    for (const address of this.added.addresses()) {
      if (!this.base.knows(address)) yield address;
    }
  }
}

function key(job: string, attempt: number): string {
  return `${job}~${attempt}`;
}
