import type { DeltaSummary, HostDelta } from '../../delta/index.ts';
import { renderHostBlocks, shown, summaryLine, utc } from '../../delta/report.ts';
import { storeSummary, type RunRef, type StoreDelta } from './query.ts';

/**
 * A store query for people and machines, in the layout of `scanmesh diff --xml` (report.ts):
 * `-` lines name what was compared against, `+` lines what is compared, then ndiff-like host
 * blocks and the summary. A store query may span several attempts on each side (a split job's
 * blocks, every host's latest scan), so the header has one line per attempt.
 */

export function renderStoreDelta(delta: StoreDelta): string {
  const lines = [...header(delta, '-', delta.old), ...header(delta, '+', delta.new), ''];
  lines.push(...renderHostBlocks(delta.hosts), summaryLine(storeSummary(delta)));
  return `${lines.join('\n')}\n`;
}

/** What `--json` prints: the same, with hosts that neither changed nor look noisy left out. */
export function storeDeltaJson(delta: StoreDelta): {
  target: StoreDelta['target'];
  cutoff: number | null;
  old: RunRef[];
  new: RunRef[];
  summary: DeltaSummary;
  hosts: HostDelta[];
} {
  return {
    target: delta.target,
    cutoff: delta.cutoff,
    old: delta.old,
    new: delta.new,
    summary: storeSummary(delta),
    hosts: delta.hosts.filter(shown),
  };
}

function header(delta: StoreDelta, sign: '-' | '+', runs: RunRef[]): string[] {
  if (runs.length > 0) return runs.map((r) => runLine(sign, r));
  // An empty side still gets its line, so a reader sees what the other side was compared with.
  const cutoff = delta.cutoff === null ? null : utc(delta.cutoff / 1000);
  if (sign === '-') {
    return [cutoff === null ? '-no earlier result' : `-no result at or before ${cutoff}`];
  }
  return [cutoff === null ? '+no later result' : `+no result after ${cutoff}`];
}

/** As report.ts names a file, with the job in place of the file (and its attempt if not the first). */
function runLine(sign: string, r: RunRef): string {
  const version = r.nmapVersion === '' ? 'nmap' : `Nmap ${r.nmapVersion}`;
  const name = r.attempt === 1 ? r.job : `${r.job} (attempt ${r.attempt})`;
  const args = r.args === '' ? '' : ` as: ${r.args}`;
  return `${sign}${version} scan ${name} at ${utc(r.start)}${args}`;
}
