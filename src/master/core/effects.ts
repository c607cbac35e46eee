import type { After, Effect, LogLevel, MasterRecord, Outgoing } from './types.ts';

/** Collects the effects of one step, in the order the shell must carry them out. */
export class Effects {
  readonly list: Effect[] = [];

  /** Returns the record, for a later `publish` of the step to name it. */
  persist<R extends MasterRecord>(record: R): R {
    this.list.push({ type: 'persist', record });
    return record;
  }

  publish(out: Outgoing, after: After): void {
    this.list.push({ type: 'publish', out, after });
  }

  log(level: LogLevel, msg: string, data: Record<string, unknown>): void {
    this.list.push({ type: 'log', level, msg, data });
  }

  push(effect: Effect): void {
    this.list.push(effect);
  }
}
