import type { Logger } from '../log.ts';
import type { Effect, MasterRecord, Outgoing } from './core/types.ts';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { WorkerEntry } from './core/types.ts';

export interface EffectPorts {
  append(records: readonly MasterRecord[]): Promise<void>;
  /** Write an ended attempt's results file, durably. Runs alongside other steps' writes. */
  fileResult(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void>;
  /** Append its `ended` record (issued at the call, like `append`); resolves once durable. */
  ended(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void>;
  publish(out: Outgoing): void;
  workerChanged(worker: WorkerEntry): void;
  logger: Logger;
  /** A durable write failed: the master cannot keep its promises and must stop. */
  fatal(err: unknown): void;
  /** Shared by all steps of one master: see `journalOrder`. */
  order?: JournalOrder;
}

/**
 * Keeps the journal in the order of the core's steps. A step that files an attempt writes its
 * results file before its later records (the job's status, the next assignment), and later steps
 * must not overtake those records: the chaos suite caught a `cutoff` of an attempt landing before
 * the `assign` it undid, so that a restarted master believed the attempt was still running.
 */
export interface JournalOrder {
  /** Resolves once the latest step with journal writes has issued its last one. */
  tail: Promise<void>;
}

export function journalOrder(): JournalOrder {
  return { tail: Promise.resolve() };
}

/** A step's place in the journal order: wait for the step before, then let the next one go. */
function takeTurn(order: JournalOrder): { wait: Promise<void>; release: () => void } {
  const wait = order.tail;
  let release!: () => void;
  order.tail = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

interface JournalOp {
  /** What must be done before the write is issued: an `ended` record waits for its file. */
  before?: Promise<void>;
  /** Issues the write at the call; resolves once it is durable. */
  run(): Promise<void>;
}

type Op = { journal: JournalOp } | { other: () => void };

/**
 * Carries out one step's effects. Journal writes are issued in the step's order, each as soon as
 * the one before is issued (an `ended` record also waits for its results file, which is written
 * from the start of the step, alongside other steps' files); the step releases its turn once its
 * last write is issued, without waiting for it to be durable, so the journal's group commit
 * gathers the records of many steps into one fsync. Every other effect waits until the writes
 * before it are durable (an ack never overtakes the record it acknowledges), in order; log lines
 * come last. Across steps only the order in which journal writes are issued is kept (with
 * `ports.order`).
 */
export function runEffects(effects: readonly Effect[], ports: EffectPorts): Promise<void> {
  const ops: Op[] = [];
  let records: MasterRecord[] = [];
  const logs: Extract<Effect, { type: 'log' }>[] = [];
  const flushRecords = () => {
    if (records.length === 0) return;
    const batch = records;
    records = [];
    ops.push({ journal: { run: () => ports.append(batch) } });
  };
  for (const e of effects) {
    switch (e.type) {
      case 'persist':
        records.push(e.record);
        break;
      case 'finish': {
        flushRecords();
        const filed = ports.fileResult(e.record, e.hosts);
        // Awaited below; until then a failure must not count as unhandled.
        filed.catch(() => undefined);
        ops.push({ journal: { before: filed, run: () => ports.ended(e.record, e.hosts) } });
        break;
      }
      case 'publish':
        flushRecords();
        ops.push({ other: () => ports.publish(e.out) });
        break;
      case 'log':
        logs.push(e);
        break;
      case 'worker-changed':
        ports.workerChanged(e.worker);
        break;
    }
  }
  flushRecords();
  // Logged once the step's writes are done: "job done" in the log means the result is on disk.
  if (logs.length > 0) {
    ops.push({ other: () => logs.forEach((l) => ports.logger[l.level](l.data, l.msg)) });
  }

  const turn = ports.order && ops.some((op) => 'journal' in op) ? takeTurn(ports.order) : null;
  let issued: Promise<void> = turn?.wait ?? Promise.resolve();
  let durable: Promise<void> = Promise.resolve();
  let others: Promise<void> = Promise.resolve();
  for (const op of ops) {
    if ('journal' in op) {
      const { before, run } = op.journal;
      // Wrapped, so that awaiting the issue does not also await durability.
      const issue = issued.then(async () => {
        await before;
        return { done: run() };
      });
      issued = issue.then(() => undefined);
      const done = issue.then((i) => i.done);
      durable = Promise.all([durable, done]).then(() => undefined);
    } else {
      const after = Promise.all([others, durable]);
      others = after.then(() => op.other());
    }
  }
  // Released after a failure too, lest every later step wait forever.
  void issued.finally(() => turn?.release()).catch(() => undefined);
  return Promise.all([issued, durable, others])
    .then(() => undefined)
    .catch((err: unknown) => ports.fatal(err))
    .finally(() => turn?.release());
}
