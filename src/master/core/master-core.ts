import type { ClBye } from '../../protocol/messages/cl-bye.ts';
import type { ClHello } from '../../protocol/messages/cl-hello.ts';
import type { Data } from '../../protocol/messages/data.ts';
import type { Ctx } from './context.ts';
import { Effects } from './effects.ts';
import { onClBye } from './on-cl-bye.ts';
import { onClHello } from './on-cl-hello.ts';
import { onCommands } from './on-commands.ts';
import { endIfComplete, onData } from './on-data.ts';
import { onHelloRound } from './on-hello-round.ts';
import { settleSchedules } from './on-schedules.ts';
import { DEFAULT_CORE_OPTIONS, type MasterCoreOptions } from './options.ts';
import {
  applyRecord,
  failSpentJobs,
  finishFiledJobs,
  settleAfterReplay,
  snapshotRecords,
} from './restore.ts';
import { MasterState } from './state.ts';
import type { CommandEntry, Effect, MasterRecord } from './types.ts';

/**
 * The master's protocol state machine. Pure: it never touches MQTT, timers, files or the logger.
 * Each input takes the current time and returns the effects the shell must carry out, in order.
 */
export class MasterCore {
  readonly state = new MasterState();
  readonly options: MasterCoreOptions;

  constructor(options: Partial<MasterCoreOptions> = {}) {
    this.options = { ...DEFAULT_CORE_OPTIONS, ...options };
  }

  /** Rebuild from the journal, record by record, before any other input; then call `restored`. */
  replay(record: MasterRecord): void {
    applyRecord(this.state, record);
  }

  restore(records: Iterable<MasterRecord>, now: number): Effect[] {
    for (const r of records) this.replay(r);
    return this.restored(now);
  }

  restored(now: number): Effect[] {
    settleAfterReplay(this.state, now, this.options.restartGraceMs);
    return this.step(now, (ctx) => {
      settleSchedules(ctx);
      // First jobs whose result is filed: no other attempt of theirs may end completed as well.
      finishFiledJobs(ctx);
      // Before anything can hand out work: a job with every attempt spent must not get another.
      failSpentJobs(ctx);
      // A crash between storing an attempt's last part and ending it leaves it complete: end it
      // now (one ending without results gives up on its job at the limit, as ever).
      for (const job of this.state.jobs.values()) {
        for (const attempt of [...job.receipts.keys()]) endIfComplete(ctx, job, attempt);
      }
    });
  }

  /**
   * The master (re)connected to the broker, after a start or an outage: discovery starts with an
   * S_HELLO round. Nothing the master could not hear meanwhile counts against a worker: missed
   * rounds start over, and every running attempt gets at least the restart grace to report, or a
   * deadline that passed while the master was down would cut off (and, at the attempt limit, fail)
   * work whose results wait in the worker's spool.
   */
  connected(now: number): Effect[] {
    for (const worker of this.state.workers.values()) worker.counter = 0;
    for (const job of this.state.jobs.values()) {
      for (const live of job.live.values()) {
        live.deadline = Math.max(live.deadline, now + this.options.restartGraceMs);
      }
    }
    return this.step(now, onHelloRound);
  }

  helloRound(now: number): Effect[] {
    return this.step(now, onHelloRound);
  }

  clHello(msg: ClHello, now: number): Effect[] {
    return this.step(now, (ctx) => onClHello(ctx, msg));
  }

  clBye(msg: ClBye, now: number): Effect[] {
    return this.step(now, (ctx) => onClBye(ctx, msg));
  }

  data(msg: Data, now: number): Effect[] {
    return this.step(now, (ctx) => onData(ctx, msg));
  }

  commands(entries: readonly CommandEntry[], now: number): Effect[] {
    return this.step(now, (ctx) => onCommands(ctx, entries));
  }

  snapshot(): MasterRecord[] {
    return snapshotRecords(this.state);
  }

  private step(now: number, handler: (ctx: Ctx) => void): Effect[] {
    const fx = new Effects();
    handler({ state: this.state, options: this.options, fx, now });
    return fx.list;
  }
}
