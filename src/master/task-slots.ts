/** Runs at most `size` tasks at once; the others wait their turn, first come first served. */
export class TaskSlots {
  #free: number;
  #waiting: (() => void)[] = [];
  #head = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`TaskSlots size must be a positive integer, got ${size}`);
    }
    this.#free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  /** Hands the slot straight to the next task waiting, if any. */
  #release(): void {
    if (this.#head === this.#waiting.length) {
      this.#free += 1;
      return;
    }
    const next = this.#waiting[this.#head] as () => void;
    this.#head += 1;
    // Dropped in batches once the served prefix is as long as what waits: amortised O(1), and
    // bounded under a queue that never empties.
    if (this.#head * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    next();
  }
}
