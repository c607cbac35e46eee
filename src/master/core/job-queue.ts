/**
 * Pending job ids in the order they will be handed out. Adding at either end, taking the head and
 * withdrawing any id all cost O(1) (amortised): a withdrawn id stays where it was, marked stale,
 * and is skipped when it reaches the head. An id is in the queue at most once.
 */
export class JobQueue {
  /** Ids put at the head, the most recent last. */
  #front: Entry[] = [];
  /** Ids put at the tail, from `#head` on. */
  #back: Entry[] = [];
  #head = 0;
  /** Each queued id with its live entry; entries not found here are stale. */
  readonly #live = new Map<string, Entry>();

  get size(): number {
    return this.#live.size;
  }

  has(id: string): boolean {
    return this.#live.has(id);
  }

  push(id: string): void {
    this.#back.push(this.#enter(id));
  }

  unshift(id: string): void {
    this.#front.push(this.#enter(id));
  }

  shift(): string | undefined {
    while (this.#front.length > 0) {
      const entry = this.#front.pop() as Entry;
      if (this.#take(entry)) return entry.id;
    }
    while (this.#head < this.#back.length) {
      const entry = this.#back[this.#head] as Entry;
      this.#head += 1;
      if (this.#take(entry)) {
        this.#compact();
        return entry.id;
      }
    }
    this.#back = [];
    this.#head = 0;
    return undefined;
  }

  delete(id: string): void {
    this.#live.delete(id);
  }

  /** Replace the whole queue by these ids, in this order. */
  reset(ids: readonly string[]): void {
    this.#front = [];
    this.#head = 0;
    this.#live.clear();
    this.#back = ids.map((id) => this.#enter(id));
  }

  /** The queued ids, head first. */
  ids(): string[] {
    const out: string[] = [];
    for (let i = this.#front.length - 1; i >= 0; i--) this.#collect(this.#front[i] as Entry, out);
    for (let i = this.#head; i < this.#back.length; i++) this.#collect(this.#back[i] as Entry, out);
    return out;
  }

  #enter(id: string): Entry {
    const entry = { id };
    this.#live.set(id, entry);
    return entry;
  }

  #take(entry: Entry): boolean {
    if (this.#live.get(entry.id) !== entry) return false;
    this.#live.delete(entry.id);
    return true;
  }

  #collect(entry: Entry, out: string[]): void {
    if (this.#live.get(entry.id) === entry) out.push(entry.id);
  }

  /** Drops the taken part of the tail array once it is most of it. */
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#back.length) return;
    this.#back = this.#back.slice(this.#head);
    this.#head = 0;
  }
}

interface Entry {
  readonly id: string;
}
