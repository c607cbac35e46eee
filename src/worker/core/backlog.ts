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
 * The parts that are durably spooled but not published yet, oldest first: what waits for room in
 * the send window. Bodies stay on disk; the shell reads each back from the spool when it is sent.
 */
export class Backlog {
  private runs: Run[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(part: PartRef): void {
    const last = this.runs.at(-1);
    if (
      last &&
      last.job === part.job &&
      last.attempt === part.attempt &&
      last.first + last.sizes.length - last.head === part.seq
    ) {
      last.sizes.push(part.bytes);
    } else {
      this.runs.push({
        job: part.job,
        attempt: part.attempt,
        first: part.seq,
        sizes: [part.bytes],
        head: 0,
      });
    }
    this.count += 1;
  }

  peek(): PartRef | undefined {
    const run = this.runs[0];
    if (!run) return undefined;
    return { job: run.job, attempt: run.attempt, seq: run.first, bytes: run.sizes[run.head]! };
  }

  shift(): PartRef | undefined {
    const part = this.peek();
    if (!part) return undefined;
    const run = this.runs[0]!;
    run.head += 1;
    run.first += 1;
    this.count -= 1;
    if (run.head === run.sizes.length) this.runs.shift();
    return part;
  }

  /** Takes one part out wherever it is (an ack for a part that was sent before a restart). */
  remove(job: string, attempt: number, seq: number): boolean {
    const i = this.runs.findIndex(
      (r) => r.job === job && r.attempt === attempt && seq >= r.first && seq < end(r),
    );
    const run = this.runs[i];
    if (!run) return false;
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
    this.runs.splice(i, 1, ...keep);
    this.count -= 1;
    return true;
  }

  /** Takes out every part of one attempt; returns their seqs. */
  removeAttempt(job: string, attempt: number): number[] {
    const seqs: number[] = [];
    this.runs = this.runs.filter((r) => {
      if (r.job !== job || r.attempt !== attempt) return true;
      for (let seq = r.first; seq < end(r); seq++) seqs.push(seq);
      return false;
    });
    this.count -= seqs.length;
    return seqs;
  }

  holds(job: string, attempt: number): boolean {
    return this.runs.some((r) => r.job === job && r.attempt === attempt);
  }

  /** The attempts with parts waiting, in order of their oldest part (with repeats). */
  *attempts(): Iterable<{ job: string; attempt: number }> {
    for (const r of this.runs) yield { job: r.job, attempt: r.attempt };
  }
}

/** One past the last seq of a run. */
function end(run: Run): number {
  return run.first + run.sizes.length - run.head;
}
