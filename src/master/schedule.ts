import { Cron } from 'croner';
import { ScanmeshError } from '../errors.ts';

/**
 * Recurring-scan schedules for commands.txt lines. Pure: no timers, no clock; the core asks for
 * times and arms its own timers, so tests drive it with plain numbers.
 *
 * - `@every DURATION`: a fixed interval, e.g. `@every 6h`, `@every 1h30m`, `@every 90s`, `@every 1d`
 *   (units d h m s, integers, largest first; from 1s to 366d).
 * - `@cron "EXPR"`: a 5-field (minute) or 6-field (seconds first) cron expression in double quotes,
 *   read by croner with Vixie semantics (day-of-month OR day-of-week). It is evaluated in the
 *   master's local time zone (TZ of the master process), so `"0 3 * * *"` means 03:00 where the
 *   master runs, and DST shifts follow croner's rules.
 *
 * `spec` is the canonical text (`@every 1m30s` for `@every 90s`, cron fields joined by one space);
 * parseSchedule(spec) gives the same schedule back, so it can be stored and hashed.
 */
export type Schedule =
  | { kind: 'every'; spec: string; intervalMs: number }
  | { kind: 'cron'; spec: string; expr: string };

const SECOND = 1000;
const UNITS = [
  ['d', 86_400 * SECOND],
  ['h', 3_600 * SECOND],
  ['m', 60 * SECOND],
  ['s', SECOND],
] as const;
// Longer than a year is a typo, not a schedule: a run that far off would never be seen to happen.
const MAX_INTERVAL_MS = 366 * 86_400 * SECOND;
const DURATION = /^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/;

// 5 or 6 fields only: croner's 7th (year) field and nicknames are not standard cron, and a
// line in commands.txt should read the same to anyone who knows crontab.
const CRON_OPTIONS = { mode: '5-or-6-parts' } as const;

function bad(message: string, cause?: unknown): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_COMMAND', message, { cause });
}

/** `@every DURATION` or `@cron "EXPR"` (the directive alone, without the nmap command). */
export function parseSchedule(text: string): Schedule {
  const every = /^@every(?:\s+(.*))?$/.exec(text.trim());
  if (every) return parseEvery(every[1]?.trim() ?? '');
  const cron = /^@cron(?:\s+(.*))?$/.exec(text.trim());
  if (cron) return parseCron(cron[1]?.trim() ?? '');
  throw bad(`"${text}" is not a schedule; use @every DURATION or @cron "EXPR", e.g. "@every 6h"`);
}

function parseEvery(arg: string): Schedule {
  const m = DURATION.exec(arg);
  if (!arg || !m) {
    throw bad(
      `@every takes a duration such as 6h, 30m, 90s, 1h30m or 1d (units d h m s, largest first), ` +
        `not "${arg}"; e.g. "@every 6h nmap -sV 10.0.0.0/24"`,
    );
  }
  const intervalMs = UNITS.reduce((sum, [, ms], i) => sum + Number(m[i + 1] ?? 0) * ms, 0);
  if (intervalMs < SECOND || intervalMs > MAX_INTERVAL_MS) {
    throw bad(
      `@every ${arg} is out of range: the interval must be from 1s to 366d, e.g. "@every 6h"`,
    );
  }
  return { kind: 'every', spec: `@every ${formatDuration(intervalMs)}`, intervalMs };
}

/** Milliseconds (whole seconds) → `1d6h`, `1m30s`: largest units first, zero units left out. */
function formatDuration(ms: number): string {
  let left = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out;
}

function parseCron(arg: string): Schedule {
  const m = /^"([^"]*)"$/.exec(arg);
  const example = 'e.g. \'@cron "0 3 * * *" nmap -sV 10.0.0.0/24\' (03:00 every day)';
  if (!m)
    throw bad(
      `@cron takes a cron expression in double quotes, not ${arg || 'nothing'}; ${example}`,
    );
  const fields = (m[1] as string).trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw bad(
      `@cron "${m[1]}" has ${fields.length} fields; it needs 5 (minute hour day month weekday) ` +
        `or 6 (seconds first); ${example}`,
    );
  }
  const expr = fields.join(' ');
  let cron: Cron;
  try {
    cron = new Cron(expr, CRON_OPTIONS);
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, '') : String(err);
    throw bad(`@cron "${expr}" is not a valid cron expression (${why}); ${example}`, err);
  }
  // A valid pattern can still name a day that never comes (30 February); refuse it now rather
  // than keep a line that silently never runs. Any fixed start works: the year is always `*`.
  if (cron.nextRun(new Date(0)) === null) {
    throw bad(`@cron "${expr}" never matches a real date; ${example}`);
  }
  return { kind: 'cron', spec: `@cron "${expr}"`, expr };
}

/**
 * When a line that was added at `addedAtMs` first runs. `@every` runs at once, so the first run
 * is the baseline later runs are compared with; `@cron` waits for its first time after
 * `addedAtMs`, so a nightly scan added at noon does not fire during business hours.
 */
export function firstRun(schedule: Schedule, addedAtMs: number): number {
  return schedule.kind === 'every' ? addedAtMs : nextRun(schedule, addedAtMs, addedAtMs);
}

/**
 * The first scheduled time strictly after `afterMs`. For `@every` that is anchorMs + k × interval
 * with the smallest k ≥ 0 that is after `afterMs`: slots missed while the master was down or a
 * run overran are skipped, and times stay on the anchor's grid instead of drifting by each run's
 * length. For `@cron` (anchor unused) it is croner's next time in local time. Infinity if a cron
 * schedule has no later time (croner stops searching in the year 3000).
 */
export function nextRun(schedule: Schedule, anchorMs: number, afterMs: number): number {
  if (schedule.kind === 'every') {
    const k = Math.max(0, Math.floor((afterMs - anchorMs) / schedule.intervalMs) + 1);
    return anchorMs + k * schedule.intervalMs;
  }
  const next = new Cron(schedule.expr, CRON_OPTIONS).nextRun(new Date(afterMs));
  return next === null ? Number.POSITIVE_INFINITY : next.getTime();
}
