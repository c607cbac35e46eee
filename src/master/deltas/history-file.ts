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

/**
 * Appends lines to history.jsonl for one writer (the master's delta stage). A crash leaves the
 * lines up to some point, the last maybe torn: appends are sequential, and ext4 (data=ordered, its
 * default) and XFS write a file's appended bytes before the size that exposes them, so a line is
 * not lost while a later one survives. The first append ends a torn last line first, or the next
 * line would join it and be skipped with it.
 */
export class HistoryAppender {
  readonly path: string;
  private checked = false;

  constructor(stateDir: string) {
    this.path = historyPath(stateDir);
  }

  /** The lines, in order, with one write and one fsync; resolves once they are durable. */
  async append(entries: readonly HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const lines = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    const torn = !this.checked && (await endsTorn(this.path));
    // Checked again after a failure: part of these lines may have reached the file.
    this.checked = false;
    await appendFile(this.path, torn ? `\n${lines}` : lines);
    const fh = await open(this.path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.checked = true;
  }
}

async function endsTorn(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}

/**
 * Every entry, oldest first, duplicates dropped; none when the file does not exist. A torn line
 * (a crash mid-append; the next append ends it, so it may be followed by others) is skipped: its
 * attempt is compared again and appended anew.
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
