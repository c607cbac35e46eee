import type { Logger } from '../log.ts';
import type { Effect, MasterRecord, Outgoing } from './core/types.ts';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { WorkerEntry } from './core/types.ts';
import { endedKeys, JournalOrder, keysOf } from './journal-order.ts';

export interface EffectPorts {
  /** Issues the write at the call; resolves once durable. */
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
  /** Shared by all steps of one master, so that its journal keeps its order (journal-order.ts). */
  order?: JournalOrder;
}

export function journalOrder(): JournalOrder {
  return new JournalOrder();
}

/**
 * Carries out one step's effects. Each record is issued as soon as the earlier records it must
 * follow are issued (journal-order.ts), without waiting for them to be durable, so the journal's
 * group commit gathers the records of many steps into one fsync; an `ended` record also waits for
 * its results file. That file is started only once the job's records so far are durable (the end
 * part's, which its DATA_ACK waits for): its fsync on the same disk would otherwise delay the
 * journal's, and the worker's ack with it. It is written alongside other jobs' files.
 * A message leaves once the records it announces are durable (the effect's `after`), and after
 * the earlier messages to the same worker, so a JOB does not wait for a results file the same step
 * writes for another job. Log lines come last, once all of the step's writes are durable and its
 * messages sent: "job done" in the log means the result is on disk.
 */
export function runEffects(effects: readonly Effect[], ports: EffectPorts): Promise<void> {
  const order = ports.order ?? journalOrder();
  const durable = new Map<MasterRecord, Promise<void>>();
  const durableOf = (r: MasterRecord) => durable.get(r) ?? unknownRecord(r);
  const done: Promise<void>[] = [];
  const logs: Extract<Effect, { type: 'log' }>[] = [];
  for (const e of effects) {
    switch (e.type) {
      case 'persist': {
        const written = order.write(keysOf(e.record), () => ports.append([e.record]));
        durable.set(e.record, written);
        done.push(written);
        break;
      }
      case 'finish': {
        const filed = order
          .jobDurable(e.record.job)
          .then(() => ports.fileResult(e.record, e.hosts));
        done.push(
          order.write(endedKeys(e.record.job), () => ports.ended(e.record, e.hosts), filed),
        );
        break;
      }
      case 'publish': {
        const after =
          'job' in e.after
            ? order.jobDurable(e.after.job)
            : e.after.length === 1
              ? durableOf(e.after[0] as MasterRecord)
              : Promise.all(e.after.map(durableOf));
        done.push(order.send(e.out.to, after, () => ports.publish(e.out)));
        break;
      }
      case 'log':
        logs.push(e);
        break;
      case 'worker-changed':
        ports.workerChanged(e.worker);
        break;
    }
  }
  const all = Promise.all(done);
  const logged =
    logs.length === 0
      ? all
      : all.then(() => logs.forEach((l) => ports.logger[l.level](l.data, l.msg)));
  return logged.then(noop, (err: unknown) => ports.fatal(err));
}

/** A publish may only name records of its own step, persisted before it: anything else is a bug. */
function unknownRecord(record: MasterRecord): Promise<never> {
  return Promise.reject(
    new Error(`a publish names a record its step did not persist before it: ${record.t}`),
  );
}

function noop(): void {}
