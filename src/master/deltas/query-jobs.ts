import type { JobChanges } from './changes-file.ts';
import type { HistoryEntry } from './history-file.ts';
import { runRef, type RunRef, type StoreDelta } from './query.ts';
import type { LoadedRun } from './query-load.ts';

/**
 * `scanmesh diff JOB`: the changes the master recorded when it compared the job. Pure: history
 * positions in, history positions out; query-store.ts loads the files they name.
 */

/**
 * The history positions a JOB argument names, the latest compared attempt of each job, oldest
 * first; null when the history does not know the id. In this order, because the names nest:
 * - a job id: that job;
 * - a recurring line `<line>`: its latest run `<line>-r<k>` (highest k), itself a job or, under
 *   `@split`, the parent of blocks `<line>-r<k>.<b>`. Looked for before split parents because a
 *   run may name its line as its parent, and all runs at once are not what was asked;
 * - a split parent: all its blocks together.
 */
export function findJob(history: readonly HistoryEntry[], id: string): number[] | null {
  const own = latestOf(history, (e) => e.job === id);
  if (own.length > 0) return own;
  const run = latestRun(history, id);
  if (run !== null) return findJob(history, run);
  const blocks = latestOf(history, (e) => e.parent === id);
  return blocks.length > 0 ? blocks : null;
}

/** The last entry of each job the filter keeps: history is in the order the master compared. */
function latestOf(history: readonly HistoryEntry[], keep: (e: HistoryEntry) => boolean): number[] {
  const last = new Map<string, number>();
  history.forEach((e, i) => {
    if (keep(e)) last.set(e.job, i);
  });
  return [...last.values()].sort((a, b) => a - b);
}

/** `<line>-r<k>` with the highest k the history holds, as a job or as a split parent. */
function latestRun(history: readonly HistoryEntry[], line: string): string | null {
  const prefix = `${line}-r`;
  let best = -1;
  const consider = (name: string | null): void => {
    if (name === null || !name.startsWith(prefix)) return;
    const m = /^([0-9]+)(?:\.[0-9]+)?$/.exec(name.slice(prefix.length));
    if (m !== null) best = Math.max(best, Number(m[1]));
  };
  for (const e of history) {
    consider(e.job);
    consider(e.parent);
  }
  return best < 0 ? null : `${prefix}${best}`;
}

/**
 * The attempts the changes were measured against: for each change's `previousJob`, its latest
 * entry before the job's own (the same job id when an earlier attempt was compared too).
 */
export function previousRuns(
  history: readonly HistoryEntry[],
  positions: readonly number[],
  changes: readonly JobChanges[],
): number[] {
  const found = new Set<number>();
  positions.forEach((pos, k) => {
    const jobs = new Set(changes[k]?.hosts.flatMap((h) => h.changes.map((c) => c.previousJob)));
    for (const job of jobs) {
      if (job === '') continue;
      for (let i = pos - 1; i >= 0; i--) {
        if (history[i]?.job === job) {
          found.add(i);
          break;
        }
      }
    }
  });
  return [...found].sort((a, b) => a - b);
}

/**
 * The report for a job: the recorded deltas of its attempts (`positions`, with their `changes`)
 * against the attempts before them (`previous`). The changes files list only hosts with a change
 * or a noise note; every host the attempts listed, and every absent host reported gone, was
 * compared.
 */
export function jobDelta(
  history: readonly HistoryEntry[],
  target: StoreDelta['target'],
  positions: readonly number[],
  changes: readonly JobChanges[],
  previous: readonly number[],
  runs: ReadonlyMap<number, LoadedRun>,
): StoreDelta {
  const ref = (i: number): RunRef =>
    runRef(history[i] as HistoryEntry, runs.get(i)?.record ?? null);
  const hosts = changes.flatMap((c) => c.hosts);
  const compared = new Set(hosts.map((h) => h.host));
  for (const i of positions) {
    for (const address of [...(history[i]?.up ?? []), ...(history[i]?.down ?? [])]) {
      compared.add(address);
    }
  }
  return {
    target,
    cutoff: null,
    old: previous.map(ref),
    new: positions.map(ref),
    hosts,
    compared: compared.size,
  };
}
