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
}

function key(job: string, attempt: number): string {
  return `${job}~${attempt}`;
}
