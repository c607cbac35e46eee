import type { Effect, LogLevel, MasterRecord, Outgoing } from './types.ts';

/** Collects the effects of one step, in the order the shell must carry them out. */
export class Effects {
  readonly list: Effect[] = [];

  persist(record: MasterRecord): void {
    this.list.push({ type: 'persist', record });
  }

  publish(out: Outgoing): void {
    this.list.push({ type: 'publish', out });
  }

  log(level: LogLevel, msg: string, data: Record<string, unknown>): void {
    this.list.push({ type: 'log', level, msg, data });
  }

  push(effect: Effect): void {
    this.list.push(effect);
  }
}
