import { createReadStream } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * `<state-dir>/history.jsonl`: one line per compared attempt, in the order the master compared
 * them, naming the hosts it saw up and down. It is the index of each host's results over time: the
 * results themselves stay in `results/<job>~<attempt>.json`. A line may appear twice after a crash
 * (the attempt is compared again on restart); readers keep the first.
 */
export interface HistoryEntry {
  job: string;
  attempt: number;
  /** The split line (or recurring line) the job belongs to; null for a plain line. */
  parent: string | null;
  /** When the master compared the attempt (its clock, Unix ms). */
  at: number;
  /**
   * Addresses the attempt saw up, and down: listed down (nmap does so only with -v), or left out
   * although the run finished and covered them (then the results file does not list them).
   */
  up: string[];
  down: string[];
}

export const HISTORY_FILE = 'history.jsonl';

export function historyPath(stateDir: string): string {
  return join(stateDir, HISTORY_FILE);
}

/** Appends one line and fsyncs it: the line must be durable before the attempt counts as compared. */
export async function appendHistory(stateDir: string, entry: HistoryEntry): Promise<void> {
  const path = historyPath(stateDir);
  await appendFile(path, `${JSON.stringify(entry)}\n`);
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Every entry, oldest first, duplicates dropped; none when the file does not exist. A torn last
 * line (a crash mid-append) is skipped: its attempt is compared again and appended anew.
 */
export async function* readHistory(stateDir: string): AsyncGenerator<HistoryEntry> {
  const seen = new Set<string>();
  const input = createReadStream(historyPath(stateDir), { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const entry = parseLine(line);
      if (entry === null) continue;
      const key = `${entry.job}~${entry.attempt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      yield entry;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function parseLine(line: string): HistoryEntry | null {
  if (line.trim() === '') return null;
  try {
    return JSON.parse(line) as HistoryEntry;
  } catch {
    return null;
  }
}
