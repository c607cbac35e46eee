import { formatDuration } from '../master/status-report.ts';
import type { Status } from '../protocol/messages/status.ts';

/**
 * `scanmesh status` as a person reads it: a header (and a loud line when the status is stale),
 * the queue with progress, then one row per worker. Pure: the status and the time in, text out.
 */
export function renderStatus(s: Status, now: number): string {
  const age = Math.max(0, (now - s.ts) / 1000);
  const out: string[] = [];
  out.push(`master ${s.master} · round ${s.round} · updated ${ago(age)}`);
  if (age > 3 * s.helloIntervalS + 2) {
    out.push(
      `STALE: no update for ${formatDuration(age)} (the master publishes every ${s.helloIntervalS}s): is it running?`,
    );
  }
  const j = s.jobs;
  out.push('');
  out.push(
    table(
      ['PENDING', 'RUNNING', 'DONE', 'FAILED', 'REMOVED', 'BACKLOG'],
      [[j.pending, j.running, j.done, j.failed, j.removed, s.backlog].map(String)],
    ),
  );
  const p = s.progress;
  const pct = p.total > 0 ? ` (${Math.floor((p.ended / p.total) * 100)}%)` : '';
  const rate = p.perMinute === null ? 'rate unknown' : `${p.perMinute}/min`;
  const eta =
    p.etaS === null ? '' : p.etaS === 0 ? ' · all ended' : ` · ETA ${formatDuration(p.etaS)}`;
  out.push(
    p.total === 0 ? 'progress: no jobs' : `progress ${p.ended}/${p.total}${pct} · ${rate}${eta}`,
  );
  out.push('');
  if (s.workers.length === 0) {
    out.push('no workers yet');
  } else {
    out.push(
      table(
        ['WORKER', 'STATE', 'COUNTER', 'SLOTS', 'RUNNING', 'LAST SEEN', 'DONE', 'FAILED'],
        s.workers.map((w) => [
          w.id,
          w.state,
          String(w.counter),
          String(w.slots),
          w.running.map((r) => `${r.job}#${r.attempt}`).join(', ') || '-',
          ago(Math.max(0, (now - w.lastSeen) / 1000)),
          String(w.jobsDone),
          String(w.jobsFailed),
        ]),
      ),
    );
  }
  if (s.workersOmitted > 0) out.push(`… and ${s.workersOmitted} more workers`);
  if (s.nextRuns.length > 0) {
    out.push('');
    out.push(
      table(
        ['NEXT RUN', 'JOB', 'COMMAND'],
        s.nextRuns.map((r) => [new Date(r.at).toISOString(), r.job, r.command]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function ago(seconds: number): string {
  return seconds < 1 ? 'just now' : `${formatDuration(seconds)} ago`;
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
