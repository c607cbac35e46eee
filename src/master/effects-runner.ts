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
}

/**
 * Carries out one step's effects in order. Within a step every effect waits for the durable writes
 * before it (an ack never overtakes the record it acknowledges); consecutive records go to the
 * journal in one append, and log lines come last. Steps do not wait for each other, so the journal's group commit gathers
 * the records of many steps into one fsync.
 */
export function runEffects(effects: readonly Effect[], ports: EffectPorts): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let records: MasterRecord[] = [];
  const logs: Extract<Effect, { type: 'log' }>[] = [];
  const flushRecords = () => {
    if (records.length === 0) return;
    const batch = records;
    records = [];
    chain = chain.then(() => ports.append(batch));
  };
  for (const e of effects) {
    switch (e.type) {
      case 'persist':
        records.push(e.record);
        break;
      case 'finish':
        flushRecords();
        chain = chain.then(() => ports.finish(e.record, e.hosts));
        break;
      case 'publish':
        flushRecords();
        chain = chain.then(() => ports.publish(e.out));
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
  if (logs.length > 0)
    chain = chain.then(() => logs.forEach((l) => ports.logger[l.level](l.data, l.msg)));
  return chain.catch((err: unknown) => ports.fatal(err));
}
