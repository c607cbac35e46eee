import { firstRun, nextRun, parseSchedule } from '../schedule.ts';
import type { Ctx } from './context.ts';
import { queueJob } from './on-commands.ts';
import { finishJob } from './scheduling.ts';
import type { MasterState } from './state.ts';
import type { CommandEntry, ScheduleEntry } from './types.ts';

/**
 * Recurring lines (`@every 6h …`, `@cron "…" …`). Each run of a line makes its jobs anew, named
 * `<line>-r<k>` (split blocks `<line>-r<k>.<b>`), so every run has its own results and the deltas
 * of run k are against run k−1. A run starts when due and never while the line's previous run
 * has jobs pending or running; a run that starts late does not make up for missed slots.
 */

/** The recurring lines of the commands file as it stands now. */
export function updateSchedules(ctx: Ctx, entries: readonly CommandEntry[]): void {
  const { state } = ctx;
  const lines = new Map<string, CommandEntry[]>();
  for (const entry of entries) {
    const line = entry.schedule?.line;
    if (line === undefined) continue;
    lines.set(line, [...(lines.get(line) ?? []), entry]);
  }
  for (const [line, template] of lines) {
    if (state.schedules.has(line)) continue;
    const spec = template[0]?.schedule?.spec ?? '';
    ctx.fx.persist({ t: 'schedule', line, spec, template, anchor: ctx.now });
    const entry = addSchedule(state, { line, spec, template, anchor: ctx.now });
    entry.nextAt = firstRun(parseSchedule(spec), ctx.now);
    ctx.fx.log('info', 'recurring line added', { line, schedule: spec, next: iso(entry.nextAt) });
  }
  for (const [line, entry] of [...state.schedules]) {
    if (lines.has(line)) continue;
    state.schedules.delete(line);
    ctx.fx.persist({ t: 'unschedule', line });
    for (const id of entry.current) {
      const job = state.jobs.get(id);
      if (job?.status === 'pending') {
        finishJob(ctx, job, 'removed', 'recurring line removed from the commands file');
      }
    }
    ctx.fx.log('info', 'recurring line removed', { line, runs: entry.runs });
  }
}

/** Starts every run that is due and whose previous run has ended. */
export function startDueRuns(ctx: Ctx): void {
  for (const entry of ctx.state.schedules.values()) {
    if (ctx.now < entry.nextAt) continue;
    const busy = entry.current.filter((id) => {
      const status = ctx.state.jobs.get(id)?.status;
      return status === 'pending' || status === 'running';
    });
    if (busy.length > 0) {
      if (!entry.waiting) {
        ctx.fx.log('info', 'recurring run due; waiting for the previous run to end', {
          line: entry.line,
          run: entry.runs + 1,
          busy,
        });
      }
      entry.waiting = true;
      continue;
    }
    startRun(ctx, entry);
  }
}

function startRun(ctx: Ctx, entry: ScheduleEntry): void {
  const k = entry.runs + 1;
  const run = { line: entry.line, k, at: ctx.now };
  const rename = (id: string) => `${entry.line}-r${k}${id.slice(entry.line.length)}`;
  entry.current = entry.template.map((t) => {
    const child: CommandEntry = {
      id: rename(t.id),
      command: t.command,
      args: t.args,
      timeoutS: t.timeoutS,
      ...(t.parent ? { parent: rename(t.parent) } : {}),
    };
    return queueJob(ctx, child, run).id;
  });
  entry.runs = k;
  entry.waiting = false;
  entry.nextAt = nextRun(parseSchedule(entry.spec), entry.anchor, ctx.now);
  ctx.fx.log('info', 'recurring run started', {
    line: entry.line,
    run: k,
    jobs: entry.current.length,
    next: iso(entry.nextAt),
  });
}

/** A schedule as its journal record gives it; runs and timing are filled in by the caller. */
export function addSchedule(
  state: MasterState,
  r: { line: string; spec: string; template: CommandEntry[]; anchor: number },
): ScheduleEntry {
  // A line removed and put back has had runs already: the next is numbered after them, or its
  // jobs would take the ids (and overwrite the results) of the earlier runs.
  let runs = 0;
  for (const job of state.jobs.values()) {
    if (job.run?.line === r.line) runs = Math.max(runs, job.run.k);
  }
  const entry: ScheduleEntry = {
    line: r.line,
    spec: r.spec,
    template: r.template,
    anchor: r.anchor,
    runs,
    nextAt: Number.POSITIVE_INFINITY,
    current: [],
    waiting: false,
  };
  state.schedules.set(r.line, entry);
  return entry;
}

/**
 * After replay: when each line's next run is due. A line whose runs all lay in the past while the
 * master was down runs once, at once, then keeps to its slots.
 */
export function settleSchedules(ctx: Ctx): void {
  for (const entry of ctx.state.schedules.values()) {
    const schedule = parseSchedule(entry.spec);
    const last = entry.runs > 0 ? ctx.state.jobs.get(entry.current[0] ?? '')?.run?.at : undefined;
    entry.nextAt =
      last === undefined ? firstRun(schedule, entry.anchor) : nextRun(schedule, entry.anchor, last);
  }
}

/** What `scanmesh status` shows as next runs, soonest first. */
export function nextRuns(
  schedules: ReadonlyMap<string, ScheduleEntry>,
  max: number,
): { job: string; command: string; at: number }[] {
  return [...schedules.values()]
    .sort((a, b) => a.nextAt - b.nextAt)
    .slice(0, max)
    .map((e) => ({
      job: e.line,
      command: `${e.spec} ${e.template[0]?.command ?? ''}${blocks(e)}`.slice(0, 256),
      at: Math.max(0, Math.round(e.nextAt)),
    }));
}

function blocks(e: ScheduleEntry): string {
  return e.template.length > 1 ? ` (+${e.template.length - 1} more blocks)` : '';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
