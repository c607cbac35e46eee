import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the master and the workers have on disk, read the way an operator would read it: the
 * master's journal, results and dead folders, and each worker's spool. Readable while the
 * processes run (an unfinished last line is skipped) and after they stopped.
 */

export interface MasterJournalFacts {
  /** Job ids the journal has a `job` record of. */
  known: Set<string>;
  /** The final status of each job that has one (done, failed, removed), with its reason. */
  final: Map<string, { status: string; reason: string }>;
  /** Ended attempts without a `written` record: the outbox still waiting for InfluxDB. */
  outbox: number;
}

type Line = Record<string, unknown>;

async function jsonLines(path: string): Promise<Line[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    try {
      out.push(JSON.parse(raw) as Line);
    } catch {
      // The line being appended right now, or the torn tail of a SIGKILL: not a fact yet.
    }
  }
  return out;
}

export async function readMasterJournal(stateDir: string): Promise<MasterJournalFacts> {
  const known = new Set<string>();
  const final = new Map<string, { status: string; reason: string }>();
  const outbox = new Set<string>();
  for (const r of await jsonLines(join(stateDir, 'journal.jsonl'))) {
    if (r.t === 'job') known.add(r.id as string);
    else if (r.t === 'status' && r.status !== 'pending' && r.status !== 'running') {
      final.set(r.job as string, { status: r.status as string, reason: r.reason as string });
    } else if (r.t === 'ended') {
      const rec = r.record as { job: string; attempt: number };
      outbox.add(`${rec.job}#${rec.attempt}`);
    } else if (r.t === 'written') outbox.delete(`${r.job as string}#${r.attempt as number}`);
  }
  return { known, final, outbox: outbox.size };
}

export interface MasterResultFacts {
  /** Job → the attempts filed as `completed` in results/. */
  completed: Map<string, number[]>;
  /** Files in dead/: results InfluxDB refused for good. */
  dead: number;
}

export async function readMasterResults(stateDir: string): Promise<MasterResultFacts> {
  const completed = new Map<string, number[]>();
  for (const name of await listDir(join(stateDir, 'results'))) {
    if (!name.endsWith('.json')) continue;
    let parsed: { record: { job: string; attempt: number; status: string } };
    try {
      parsed = JSON.parse(await readFile(join(stateDir, 'results', name), 'utf8')) as typeof parsed;
    } catch {
      // A file a SIGKILL cut while it was written: no `ended` record names it, so it was never
      // filed, and the master rewrites it when that attempt arrives again.
      continue;
    }
    const { record } = parsed;
    if (record.status !== 'completed') continue;
    completed.set(record.job, [...(completed.get(record.job) ?? []), record.attempt]);
  }
  return { completed, dead: (await listDir(join(stateDir, 'dead'))).length };
}

/** DATA parts a worker's spool still holds: every `put` without a later `ack`. */
export async function spooledParts(workerStateDir: string): Promise<number> {
  const live = new Set<string>();
  for (const r of await jsonLines(join(workerStateDir, 'spool.jsonl'))) {
    const part = (r.put ?? r.ack) as { job: string; attempt: number; seq: number } | undefined;
    if (!part) continue;
    const key = `${part.job}#${part.attempt}#${part.seq}`;
    if (r.put) live.add(key);
    else live.delete(key);
  }
  return live.size;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
