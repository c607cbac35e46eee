import type { MasterRecord } from './core/types.ts';

/**
 * Which journal records must reach the journal in the order the core made them, and which may
 * overtake one another. Replay reads the journal in file order, so two records must keep their
 * order when their meaning depends on it, as for the records of one job: the chaos suite once
 * caught a `cutoff` of an attempt landing before the `assign` it undid, and a restarted master
 * believed the attempt still ran; a `status` done before the `ended` record of its result would
 * lose that result. Every record therefore carries keys, and a record is issued only after every
 * earlier record (of any step) sharing one of its keys:
 *   - the records of one job share the job's key;
 *   - `ended` records also share one key among all jobs, so attempts reach the delta stage and
 *     InfluxDB in the order their last parts arrived;
 *   - schedule records and the jobs of a recurring run are barriers: a run starts only once the
 *     previous one has ended, a fact spread over other jobs' records, so they wait for every
 *     earlier record and every later record waits for them.
 * Only an `ended` record waits for anything else (its results file, written meanwhile), so
 * records of other jobs go past it instead of queueing behind a file write; the rest keep the
 * core's order. The journal makes records durable in the order they are issued (storage/journal.ts).
 */
export type Keys = readonly string[] | 'barrier';

export function keysOf(record: MasterRecord): Keys {
  switch (record.t) {
    case 'schedule':
    case 'unschedule':
    case 'stamp':
      return 'barrier';
    case 'job':
      return record.run ? 'barrier' : [jobKey(record.id)];
    case 'ended':
      return endedKeys(record.record.job);
    default:
      return [jobKey(record.job)];
  }
}

export function endedKeys(job: string): Keys {
  return [jobKey(job), ENDED];
}

const ENDED = 'ended';

function jobKey(job: string): string {
  return `job:${job}`;
}

/** A write waiting for an earlier one or for its file; dropped from the maps once issued. */
interface Waiting {
  readonly issued: Promise<void>;
}

/** Shared by all steps of one master. */
export class JournalOrder {
  /** The latest write of each key that is not issued yet. */
  readonly #waiting = new Map<string, Waiting>();
  /** Every write not issued yet: a barrier waits for all of them. */
  readonly #unissued = new Set<Waiting>();
  #barrier: Waiting | null = null;
  /** Every write issued or waiting that is not durable yet. */
  readonly #notDurable = new Set<Promise<void>>();
  /** The latest write of each job's key, and the latest barrier, until durable. */
  readonly #latestOfJob = new Map<string, Promise<void>>();
  #latestBarrier: Promise<void> | null = null;
  #failure: { err: unknown } | null = null;
  /** The latest message to each recipient that has not left yet. */
  readonly #sending = new Map<string, Promise<void>>();

  /**
   * Issues `run` (which issues a journal write at the call and resolves once it is durable) as
   * soon as the earlier writes it must follow are issued, and `before` has resolved. Returns
   * when the write is durable; rejects if it, or one it had to follow, failed.
   */
  write(keys: Keys, run: () => Promise<void>, before?: Promise<void>): Promise<void> {
    const deps = this.#dependencies(keys, before);
    const durable = deps === null ? invoke(run) : this.#later(keys, deps, run);
    this.#notDurable.add(durable);
    this.#track(keys, durable);
    durable.then(
      () => this.#notDurable.delete(durable),
      (err: unknown) => void (this.#failure ??= { err }),
    );
    return durable;
  }

  /**
   * Resolves once every write of this job made so far is durable (its records, barriers among
   * them): what an answer resting on the job's earlier records waits for, instead of the whole
   * journal with other jobs' results files in it. Rejects if one of them failed.
   */
  jobDurable(job: string): Promise<void> {
    const own = this.#latestOfJob.get(jobKey(job));
    const barrier = this.#latestBarrier;
    if (own && barrier) return Promise.all([own, barrier]).then(noop);
    return own ?? barrier ?? Promise.resolve();
  }

  /** Resolves once every write issued or waiting so far is durable. */
  async durable(): Promise<void> {
    await Promise.all(this.#notDurable);
    if (this.#failure) throw this.#failure.err;
  }

  /**
   * Sends once `after` has resolved, and after every earlier message to the same recipient has
   * left (or failed to): a worker gets its messages in the order the core made them.
   */
  send(to: string, after: Promise<unknown>, send: () => void): Promise<void> {
    const previous = this.#sending.get(to);
    const turn = previous ? Promise.all([after, previous.catch(noop)]) : after;
    // A message that never leaves (what it announces failed) stays the recipient's latest
    // until the next one: later messages only wait for it to settle.
    const sent: Promise<void> = turn.then(() => {
      if (this.#sending.get(to) === sent) this.#sending.delete(to);
      send();
    });
    this.#sending.set(to, sent);
    return sent;
  }

  /**
   * The journal makes writes durable in the order they are issued, and a write is issued after
   * the earlier writes sharing its keys: the latest write of a key is durable last.
   */
  #track(keys: Keys, durable: Promise<void>): void {
    const forget = (key: string) => () => {
      if (this.#latestOfJob.get(key) === durable) this.#latestOfJob.delete(key);
    };
    if (keys === 'barrier') {
      this.#latestBarrier = durable;
      const clear = () => {
        if (this.#latestBarrier === durable) this.#latestBarrier = null;
      };
      durable.then(clear, noop);
      return;
    }
    for (const key of keys) {
      if (key === ENDED) continue;
      this.#latestOfJob.set(key, durable);
      durable.then(forget(key), noop);
    }
  }

  /** What a write must wait for; null (the common case) when it may be issued at once. */
  #dependencies(keys: Keys, before: Promise<void> | undefined): Promise<unknown>[] | null {
    if (keys === 'barrier') {
      const deps: Promise<unknown>[] = [...this.#unissued].map((w) => w.issued);
      if (before) deps.push(before);
      return deps.length > 0 ? deps : null;
    }
    let deps: Promise<unknown>[] | null = before ? [before] : null;
    if (this.#barrier) (deps ??= []).push(this.#barrier.issued);
    for (const key of keys) {
      const w = this.#waiting.get(key);
      if (w) (deps ??= []).push(w.issued);
    }
    return deps;
  }

  #later(keys: Keys, deps: Promise<unknown>[], run: () => Promise<void>): Promise<void> {
    let durable: Promise<void> = Promise.resolve();
    const issued = Promise.all(deps).then(() => {
      durable = invoke(run);
      this.#issued(keys, waiting);
    });
    // A write whose dependency failed is never issued, and stays in the maps: every later write
    // that must follow it then fails too, instead of overtaking it.
    const waiting: Waiting = { issued };
    this.#unissued.add(waiting);
    if (keys === 'barrier') this.#barrier = waiting;
    else for (const key of keys) this.#waiting.set(key, waiting);
    return issued.then(() => durable);
  }

  #issued(keys: Keys, waiting: Waiting): void {
    this.#unissued.delete(waiting);
    if (keys === 'barrier') {
      if (this.#barrier === waiting) this.#barrier = null;
      return;
    }
    for (const key of keys) if (this.#waiting.get(key) === waiting) this.#waiting.delete(key);
  }
}

function invoke(run: () => Promise<void>): Promise<void> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}

function noop(): void {}
