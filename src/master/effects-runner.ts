import type { Logger } from '../log.ts';
import type { Effect, MasterRecord, Outgoing } from './core/types.ts';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { WorkerEntry } from './core/types.ts';

export interface EffectPorts {
  append(records: readonly MasterRecord[]): Promise<void>;
  finish(record: AttemptRecord, hosts: readonly HostResult[]): Promise<void>;
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

interface Op {
  /** Whether it writes to the journal: `finish` appends the attempt's `ended` record. */
  journal: 'append' | 'finish' | null;
  run(): unknown;
}

/**
 * Carries out one step's effects in order. Within a step every effect waits for the durable writes
 * before it (an ack never overtakes the record it acknowledges); consecutive records go to the
 * journal in one append, and log lines come last. Across steps only the order in which journal
 * writes are issued is kept (with `ports.order`): a step issues its first write once the step
 * before has issued its last, without waiting for it to be durable, so the journal's group commit
 * still gathers the records of many steps into one fsync.
 */
export function runEffects(effects: readonly Effect[], ports: EffectPorts): Promise<void> {
  const ops: Op[] = [];
  let records: MasterRecord[] = [];
  const logs: Extract<Effect, { type: 'log' }>[] = [];
  const flushRecords = () => {
    if (records.length === 0) return;
    const batch = records;
    records = [];
    ops.push({ journal: 'append', run: () => ports.append(batch) });
  };
  for (const e of effects) {
    switch (e.type) {
      case 'persist':
        records.push(e.record);
        break;
      case 'finish':
        flushRecords();
        ops.push({ journal: 'finish', run: () => ports.finish(e.record, e.hosts) });
        break;
      case 'publish':
        flushRecords();
        ops.push({ journal: null, run: () => ports.publish(e.out) });
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
    ops.push({
      journal: null,
      run: () => logs.forEach((l) => ports.logger[l.level](l.data, l.msg)),
    });
  }

  const first = ops.findIndex((op) => op.journal);
  const last = ops.findLastIndex((op) => op.journal);
  const turn = ports.order && first >= 0 ? takeTurn(ports.order) : null;
  let chain: Promise<void> = Promise.resolve();
  ops.forEach((op, i) => {
    chain = chain.then(async () => {
      if (i === first) await turn?.wait;
      const done = op.run();
      // An append has its place once issued; `finish` appends its record only after the file.
      if (i === last && op.journal === 'finish') await done;
      if (i === last) turn?.release();
      await done;
    });
  });
  // Released after a failure too, lest every later step wait forever.
  return chain.catch((err: unknown) => ports.fatal(err)).finally(() => turn?.release());
}
