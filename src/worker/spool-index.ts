/** One live part as the index knows it: where its `put` line is, not what it says. */
export interface IndexedPart {
  job: string;
  attempt: number;
  seq: number;
  offset: number;
  /** Bytes of its `put` line. */
  bytes: number;
  /** Which put wrote it (puts are numbered), to tell a repeated put from the one it replaced. */
  put: number;
  durable: boolean;
}

/** Live lines sorted by offset, as two columns: what a compaction copies, in this order. */
export interface LineColumns {
  offsets: Float64Array;
  sizes: Float64Array;
}

/** One attempt's parts in columns indexed by seq: a few numbers per part, no object. */
class AttemptParts {
  readonly job: string;
  readonly attempt: number;
  offset = new Float64Array(0);
  put = new Float64Array(0);
  /** 0: no part at this seq. */
  bytes = new Uint32Array(0);
  durable = new Uint8Array(0);
  count = 0;

  constructor(job: string, attempt: number) {
    this.job = job;
    this.attempt = attempt;
  }

  has(seq: number): boolean {
    return seq < this.bytes.length && this.bytes[seq]! > 0;
  }

  ensure(seq: number): void {
    if (seq < this.bytes.length) return;
    const size = Math.max(seq + 1, 2 * this.bytes.length, 16);
    this.offset = grow(this.offset, new Float64Array(size));
    this.put = grow(this.put, new Float64Array(size));
    this.bytes = grow(this.bytes, new Uint32Array(size));
    this.durable = grow(this.durable, new Uint8Array(size));
  }
}

/**
 * Where each live part of the spool is in its file. Typed columns per attempt keep it at about 21
 * bytes a part and out of the garbage-collected heap, so a scan waiting for the master costs the
 * worker next to nothing in memory. Put order is file order: every live line is in the current
 * file, and a repeated put lands after everything before it.
 */
export class SpoolIndex {
  readonly #attempts = new Map<string, AttemptParts>();
  #size = 0;
  #durable = 0;
  #bytes = 0;

  /** Live parts, durable or not. */
  get size(): number {
    return this.#size;
  }

  get durableCount(): number {
    return this.#durable;
  }

  /** Bytes of the live parts' lines: what a compacted file holds. */
  get liveBytes(): number {
    return this.#bytes;
  }

  /** Records a put (replacing the part's earlier one); false if the part had none. */
  set(part: Omit<IndexedPart, 'durable'>, durable: boolean): boolean {
    const replaced = this.delete(part.job, part.attempt, part.seq);
    const key = `${part.job}#${part.attempt}`;
    let parts = this.#attempts.get(key);
    if (!parts) this.#attempts.set(key, (parts = new AttemptParts(part.job, part.attempt)));
    parts.ensure(part.seq);
    parts.offset[part.seq] = part.offset;
    parts.put[part.seq] = part.put;
    parts.bytes[part.seq] = part.bytes;
    parts.durable[part.seq] = durable ? 1 : 0;
    parts.count += 1;
    this.#size += 1;
    this.#bytes += part.bytes;
    if (durable) this.#durable += 1;
    return replaced;
  }

  get(job: string, attempt: number, seq: number): IndexedPart | null {
    const parts = this.#attempts.get(`${job}#${attempt}`);
    if (!parts?.has(seq)) return null;
    return {
      job,
      attempt,
      seq,
      offset: parts.offset[seq]!,
      bytes: parts.bytes[seq]!,
      put: parts.put[seq]!,
      durable: parts.durable[seq] === 1,
    };
  }

  /** Forgets a part; false if there was none. */
  delete(job: string, attempt: number, seq: number): boolean {
    const key = `${job}#${attempt}`;
    const parts = this.#attempts.get(key);
    if (!parts?.has(seq)) return false;
    this.#size -= 1;
    this.#bytes -= parts.bytes[seq]!;
    if (parts.durable[seq] === 1) this.#durable -= 1;
    parts.bytes[seq] = 0;
    parts.durable[seq] = 0;
    if (--parts.count === 0) this.#attempts.delete(key);
    return true;
  }

  /** Marks put number `put` of a part durable, unless a later put or an ack replaced it. */
  land(job: string, attempt: number, seq: number, put: number): void {
    const parts = this.#attempts.get(`${job}#${attempt}`);
    if (!parts?.has(seq) || parts.put[seq] !== put || parts.durable[seq] === 1) return;
    parts.durable[seq] = 1;
    this.#durable += 1;
  }

  /** Every live part in put order. */
  sorted(): IndexedPart[] {
    const out: IndexedPart[] = [];
    for (const parts of this.#attempts.values()) {
      for (let seq = 0; seq < parts.bytes.length; seq++) {
        if (parts.bytes[seq]! > 0) out.push(this.get(parts.job, parts.attempt, seq)!);
      }
    }
    return out.sort((a, b) => a.offset - b.offset);
  }

  /** The live lines in file order, for a compaction to copy. */
  lines(): LineColumns {
    const all = this.sorted();
    return {
      offsets: Float64Array.from(all, (p) => p.offset),
      sizes: Float64Array.from(all, (p) => p.bytes),
    };
  }

  /**
   * A compaction copied `copied` back to back from offset 0, then everything from `from` on to
   * `to`: moves every live part to where its line is now.
   */
  move(copied: LineColumns, from: number, to: number): void {
    const starts = new Float64Array(copied.sizes.length);
    for (let i = 1; i < starts.length; i++) starts[i] = starts[i - 1]! + copied.sizes[i - 1]!;
    for (const parts of this.#attempts.values()) {
      for (let seq = 0; seq < parts.bytes.length; seq++) {
        if (parts.bytes[seq] === 0) continue;
        const offset = parts.offset[seq]!;
        if (offset >= from) {
          parts.offset[seq] = offset - from + to;
          continue;
        }
        const i = indexOf(copied.offsets, offset);
        if (i < 0) throw new Error(`spool index: no copied line at ${offset}`);
        parts.offset[seq] = starts[i]!;
      }
    }
  }
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(old: T, bigger: T): T {
  bigger.set(old as never);
  return bigger;
}

/** Binary search in ascending offsets. */
function indexOf(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = sorted[mid]!;
    if (at === value) return mid;
    if (at < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
