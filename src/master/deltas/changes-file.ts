import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostDelta } from '../../delta/index.ts';
import { fsyncDir } from '../../storage/atomic-file.ts';

/**
 * `<state-dir>/changes/<job>~<attempt>.json`: what one attempt changed, written once when the
 * master compares it, before its history line. `scanmesh diff JOB`, the InfluxDB outbox
 * (`port_change` points) and the webhooks read it; a restarted master that finds it does not
 * compare again, so a crash never reports a change twice or compares an attempt with itself.
 *
 * The delta stage writes it in place (`writeChangesFiles`), so a crash can leave it empty or
 * partial: `readUncomparedChanges` takes a file that does not parse for absent. That is safe because
 * nothing but the delta stage reads a changes file before the attempt's history line exists (the
 * queries reach it through history.jsonl, the InfluxDB outbox through the `compared` record), and
 * the stage appends that line only once the file's bytes and name are durable: a torn file belongs
 * to an attempt with no history line and no notification yet, which the stage compares as new.
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

export function changesDir(stateDir: string): string {
  return join(stateDir, 'changes');
}

/**
 * Files of a batch written at once: enough to overlap fsyncs, few enough to leave libuv's four
 * threads free for the journal's fsync, which acknowledgements wait for.
 */
const WRITERS = 2;

/**
 * Writes a batch's changes files in place, each fsynced, then fsyncs `changes/` once for all the
 * names: one fsync per file and one per batch, instead of three in a row per file for an atomic
 * replace. `changes/` must exist (`ensureDir(changesDir(...))`). On any failure every file of the
 * batch is removed before it rejects: a file left whole in the page cache but not durable would
 * read as compared on the retry, and its history line would then go out ahead of it.
 */
export async function writeChangesFiles(
  stateDir: string,
  batch: readonly JobChanges[],
): Promise<void> {
  if (batch.length === 0) return;
  const paths = batch.map((c) => changesPath(stateDir, c.job, c.attempt));
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < batch.length) {
      const i = next++;
      const handle = await open(paths[i] as string, 'w');
      try {
        await handle.writeFile(JSON.stringify(batch[i]));
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  try {
    const writers = Array.from({ length: Math.min(WRITERS, batch.length) }, writer);
    const failed = (await Promise.allSettled(writers)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await fsyncDir(changesDir(stateDir));
  } catch (err) {
    await Promise.all(paths.map((p) => rm(p, { force: true }).catch(() => undefined)));
    throw err;
  }
}

/** The attempt's changes, or null when it has not been compared (or was not a completed scan). */
export async function readChanges(
  stateDir: string,
  job: string,
  attempt: number,
): Promise<JobChanges | null> {
  const text = await readText(changesPath(stateDir, job, attempt));
  return text === null ? null : (JSON.parse(text) as JobChanges);
}

/**
 * For the delta stage, of an attempt not yet compared: as `readChanges`, but a file that does not
 * parse was torn by a crash before it was durable (see above), and counts as absent.
 */
export async function readUncomparedChanges(
  stateDir: string,
  job: string,
  attempt: number,
): Promise<JobChanges | null> {
  const text = await readText(changesPath(stateDir, job, attempt));
  if (text === null) return null;
  try {
    return JSON.parse(text) as JobChanges;
  } catch {
    return null;
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
