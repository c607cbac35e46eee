/** One DATA part by reference: where the spool finds it, and what it costs on the wire. */
export interface PartRef {
  job: string;
  attempt: number;
  seq: number;
  /** Approximate encoded size, bytes: what the part adds to the send window. */
  bytes: number;
}

/**
 * Consecutive parts of one attempt. An attempt's parts are spooled with seqs counting up, so a
 * whole scan waiting for the master is one run: the backlog costs a number per part, not an
 * object, whatever the size of the scan.
 */
interface Run {
  job: string;
  attempt: number;
  /** Seq of `sizes[head]`. */
  first: number;
  /** Sizes of the parts in seq order; those before `head` have left the run. */
  sizes: number[];
  head: number;
}

/**
 * The parts that are durably spooled but not published yet, oldest run first: what waits for room
 * in the send window. Bodies stay on disk; the shell reads each back from the spool when it is
 * sent. A part joins its attempt's latest run when it follows it, so attempts spooling side by
 * side (several slots) still cost a run each, not one per part; across attempts the order does not
 * matter, within one it is seq order, so its end part still goes last.
 */
export class Backlog {
  /** Runs from `head` on are waiting; the ones before left (dropped in batches, not by shift). */
  private runs: Run[] = [];
  private head = 0;
  /** Each attempt's latest run, the one its next part may join. */
  private readonly latest = new Map<string, Run>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(part: PartRef): void {
    const key = attemptKey(part.job, part.attempt);
    const last = this.latest.get(key);
    if (last && end(last) === part.seq) {
      last.sizes.push(part.bytes);
    } else {
      const run: Run = {
        job: part.job,
        attempt: part.attempt,
        first: part.seq,
        sizes: [part.bytes],
        head: 0,
      };
      this.runs.push(run);
      this.latest.set(key, run);
    }
    this.count += 1;
  }

  peek(): PartRef | undefined {
    const run = this.runs[this.head];
    if (!run) return undefined;
    return { job: run.job, attempt: run.attempt, seq: run.first, bytes: run.sizes[run.head]! };
  }

  shift(): PartRef | undefined {
    const part = this.peek();
    if (!part) return undefined;
    const run = this.runs[this.head]!;
    run.head += 1;
    run.first += 1;
    this.count -= 1;
    if (run.head === run.sizes.length) this.dropFirst(run);
    return part;
  }

  /** Takes one part out wherever it is (an ack for a part that was sent before a restart). */
  remove(job: string, attempt: number, seq: number): boolean {
    const i = this.live().findIndex(
      (r) => r.job === job && r.attempt === attempt && seq >= r.first && seq < end(r),
    );
    const run = this.runs[this.head + i];
    if (i < 0 || !run) return false;
    const at = run.head + (seq - run.first);
    const after: Run = {
      job,
      attempt,
      first: seq + 1,
      sizes: run.sizes.slice(at + 1),
      head: 0,
    };
    run.sizes.length = at;
    const keep = [run, after].filter((r) => r.head < r.sizes.length);
    this.runs.splice(this.head + i, 1, ...keep);
    const key = attemptKey(job, attempt);
    if (this.latest.get(key) === run) {
      const last = keep.at(-1);
      if (last) this.latest.set(key, last);
      else this.latest.delete(key);
    }
    this.count -= 1;
    return true;
  }

  /** Takes out every part of one attempt; returns their seqs. */
  removeAttempt(job: string, attempt: number): number[] {
    const seqs: number[] = [];
    this.runs = this.live().filter((r) => {
      if (r.job !== job || r.attempt !== attempt) return true;
      for (let seq = r.first; seq < end(r); seq++) seqs.push(seq);
      return false;
    });
    this.head = 0;
    this.latest.delete(attemptKey(job, attempt));
    this.count -= seqs.length;
    return seqs;
  }

  holds(job: string, attempt: number): boolean {
    return this.latest.has(attemptKey(job, attempt));
  }

  /** The attempts with parts waiting, in order of their oldest part (with repeats). */
  *attempts(): Iterable<{ job: string; attempt: number }> {
    for (const r of this.live()) yield { job: r.job, attempt: r.attempt };
  }

  private live(): Run[] {
    return this.head === 0 ? this.runs : this.runs.slice(this.head);
  }

  private dropFirst(run: Run): void {
    const key = attemptKey(run.job, run.attempt);
    if (this.latest.get(key) === run) this.latest.delete(key);
    this.head += 1;
    // Compacted once the dead prefix is as long as what is left: amortised O(1) per run.
    if (this.head * 2 >= this.runs.length) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
  }
}

function attemptKey(job: string, attempt: number): string {
  return `${job}#${attempt}`;
}

/** One past the last seq of a run. */
function end(run: Run): number {
  return run.first + run.sizes.length - run.head;
}
