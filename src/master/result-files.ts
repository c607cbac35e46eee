import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';

/**
 * Where the master files each ended attempt: `results/<job>~<attempt>.json`, moved to `dead/` when
 * InfluxDB refuses it for good. Completed attempts stay there for good: they are the history that
 * deltas and `scanmesh diff` read. A file is a result only if a durable record names it (`ended`,
 * or the history line that follows it): a crash while filing can leave one that none names, even
 * empty or cut short (store.ts), so nothing lists this folder to find results.
 */
export interface StoredResult {
  record: AttemptRecord;
  hosts: HostResult[];
}

export function resultFileName(job: string, attempt: number): string {
  return `${job}~${attempt}.json`;
}

export function resultPath(stateDir: string, job: string, attempt: number): string {
  return join(stateDir, 'results', resultFileName(job, attempt));
}

export function deadPath(stateDir: string, job: string, attempt: number): string {
  return join(stateDir, 'dead', resultFileName(job, attempt));
}

/** The stored attempt, wherever it is kept; null when neither folder has it. */
export async function readStoredResult(
  stateDir: string,
  job: string,
  attempt: number,
): Promise<StoredResult | null> {
  for (const path of [resultPath(stateDir, job, attempt), deadPath(stateDir, job, attempt)]) {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as StoredResult;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return null;
}
