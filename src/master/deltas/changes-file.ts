import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostDelta } from '../../delta/index.ts';
import { ensureDir, writeFileAtomic } from '../../storage/atomic-file.ts';

/**
 * `<state-dir>/changes/<job>~<attempt>.json`: what one attempt changed, written once when the
 * master compares it, before its history line. `scanmesh diff JOB`, the InfluxDB outbox
 * (`port_change` points) and the webhooks read it; a restarted master that finds it does not
 * compare again, so a crash never reports a change twice or compares an attempt with itself.
 */
export interface JobChanges {
  job: string;
  attempt: number;
  parent: string | null;
  command: string;
  worker: string;
  /** When the master compared it (its clock, Unix ms). */
  at: number;
  /** Hosts with at least one change or a noise note, in the attempt's order, then absent hosts. */
  hosts: HostDelta[];
}

export function changesPath(stateDir: string, job: string, attempt: number): string {
  return join(stateDir, 'changes', `${job}~${attempt}.json`);
}

export async function writeChanges(stateDir: string, changes: JobChanges): Promise<void> {
  await ensureDir(join(stateDir, 'changes'));
  await writeFileAtomic(
    changesPath(stateDir, changes.job, changes.attempt),
    JSON.stringify(changes),
  );
}

/** The attempt's changes, or null when it has not been compared (or was not a completed scan). */
export async function readChanges(
  stateDir: string,
  job: string,
  attempt: number,
): Promise<JobChanges | null> {
  try {
    return JSON.parse(await readFile(changesPath(stateDir, job, attempt), 'utf8')) as JobChanges;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
