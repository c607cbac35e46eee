import type { CompareOptions } from '../../delta/index.ts';
import { ScanmeshError } from '../../errors.ts';
import { historyPath } from './history-file.ts';
import type { DiffTarget, StoreDelta } from './query.ts';
import { hostDeltas, planHosts, runsNeeded } from './query-hosts.ts';
import { findJob, jobDelta, previousRuns } from './query-jobs.ts';
import { loadChanges, loadRuns, openStore } from './query-load.ts';

export interface StoreQuery {
  target: DiffTarget;
  /** `--since`'s point in time (Unix ms): hosts only. */
  cutoff: number | null;
  options: CompareOptions;
  /** Appended when the state dir is missing or holds no compared scan: where else to look. */
  hint?: string;
}

/** Runs one `scanmesh diff` query against a state dir: load what the pure steps ask for. */
export async function diffStore(dir: string, query: StoreQuery): Promise<StoreDelta> {
  const store = await openStore(dir, query.hint);
  const { target } = query;
  if (target.kind === 'job') {
    const positions = findJob(store.history, target.id);
    if (positions === null) {
      throw new ScanmeshError(
        'SCANMESH_NOT_FOUND',
        `no job, split line or recurring line ${target.id} in ${historyPath(dir)}`,
      );
    }
    const changes = await loadChanges(store, positions);
    const previous = previousRuns(store.history, positions, changes);
    // Records only, for the header: which nmap, which arguments, when.
    const needs = new Map([...positions, ...previous].map((pos) => [pos, new Set<string>()]));
    const runs = await loadRuns(store, needs);
    return jobDelta(store.history, target, positions, changes, previous, runs);
  }
  const address = target.kind === 'host' ? target.address : null;
  const plans = planHosts(store.history, address, query.cutoff);
  if (address !== null && plans.length === 0) {
    throw new ScanmeshError(
      'SCANMESH_NOT_FOUND',
      `no scan in ${historyPath(dir)} listed ${address} (give its IP address as nmap reports it)`,
    );
  }
  const runs = await loadRuns(store, runsNeeded(store.history, plans));
  return hostDeltas(store.history, plans, runs, { ...query, target });
}
