import { stat } from 'node:fs/promises';
import { ScanmeshError, isScanmeshError } from '../../errors.ts';
import { absentHost } from '../../delta/index.ts';
import type { HostResult } from '../../nmap/result.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { readStoredResult, resultPath } from '../result-files.ts';
import { changesPath, readChanges, type JobChanges } from './changes-file.ts';
import { historyPath, readHistory, type HistoryEntry } from './history-file.ts';

/**
 * The edge of `scanmesh diff`: reads the master's state dir and nothing else, never writes, so it
 * runs beside a live master. The master writes results and changes before the history line that
 * names them, so whatever the history names is already complete on disk.
 */

export interface Store {
  dir: string;
  /** Oldest first, as the master compared them; positions in it name attempts below. */
  history: HistoryEntry[];
}

/** `hint` ends the message when there is nothing to read: where the store might be instead. */
export async function openStore(dir: string, hint = ''): Promise<Store> {
  const tail = hint === '' ? '' : `; ${hint}`;
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    (err: NodeJS.ErrnoException) => {
      // Missing is a person's mistake (wrong dir); unreadable is the store's trouble.
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return false;
      throw storeFailed(`cannot read ${dir}`, err);
    },
  );
  if (!isDir) {
    throw new ScanmeshError('SCANMESH_NOT_FOUND', `no master state dir at ${dir}${tail}`);
  }
  const history: HistoryEntry[] = [];
  try {
    for await (const entry of readHistory(dir)) history.push(entry);
  } catch (err) {
    throw storeFailed(`cannot read ${historyPath(dir)}`, err);
  }
  if (history.length === 0) {
    throw new ScanmeshError(
      'SCANMESH_NOT_FOUND',
      `no compared scan in ${dir} yet (${historyPath(dir)} is missing or empty)${tail}`,
    );
  }
  return { dir, history };
}

/** A stored attempt with only the hosts a query needs: a sweep's other hosts are let go. */
export interface LoadedRun {
  record: AttemptRecord;
  hosts: Map<string, HostResult>;
}

/**
 * The attempts at the given history positions, each with the hosts named for it (an empty set:
 * the record only). One file at a time: results of big sweeps are large, and few are kept.
 */
export async function loadRuns(
  store: Store,
  needs: ReadonlyMap<number, ReadonlySet<string>>,
): Promise<Map<number, LoadedRun>> {
  const runs = new Map<number, LoadedRun>();
  for (const [pos, addresses] of needs) {
    const entry = entryAt(store, pos);
    const name = resultPath(store.dir, entry.job, entry.attempt);
    const stored = await readStoredResult(store.dir, entry.job, entry.attempt).catch((err) => {
      throw storeFailed(`cannot read ${name}`, err);
    });
    if (stored === null) {
      throw storeFailed(`${named(store, entry)}, but ${name} is missing (and not in dead/)`);
    }
    const hosts = new Map<string, HostResult>();
    for (const address of addresses) {
      // history-file.ts: a host recorded down may be one the run covered and left out.
      const host =
        stored.hosts.find((h) => h.address === address) ??
        (entry.down.includes(address) ? absentHost(address) : undefined);
      if (host === undefined) throw storeFailed(`${name} has no result for ${address}`);
      hosts.set(address, host);
    }
    runs.set(pos, { record: stored.record, hosts });
  }
  return runs;
}

/** The recorded changes of the attempts at the given positions, in their order. */
export async function loadChanges(
  store: Store,
  positions: readonly number[],
): Promise<JobChanges[]> {
  const out: JobChanges[] = [];
  for (const pos of positions) {
    const { job, attempt } = entryAt(store, pos);
    const path = changesPath(store.dir, job, attempt);
    const changes = await readChanges(store.dir, job, attempt).catch((err) => {
      throw storeFailed(`cannot read ${path}`, err);
    });
    if (changes === null) {
      throw storeFailed(`${named(store, { job, attempt })}, but ${path} is missing`);
    }
    out.push(changes);
  }
  return out;
}

function named(store: Store, e: { job: string; attempt: number }): string {
  return `${historyPath(store.dir)} names ${e.job}~${e.attempt}`;
}

function entryAt(store: Store, pos: number): HistoryEntry {
  const entry = store.history[pos];
  if (entry === undefined) throw new RangeError(`no history entry ${pos}`);
  return entry;
}

/** Unreadable or inconsistent files: a code and the file, not a stack trace. */
function storeFailed(message: string, cause?: unknown): ScanmeshError {
  if (isScanmeshError(cause)) return cause;
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new ScanmeshError('SCANMESH_STORE_FAILED', `${message}${why}`, { cause });
}
