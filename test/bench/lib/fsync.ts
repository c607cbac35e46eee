import { join } from 'node:path';
import { openJournal, type Journal } from '../../../src/storage/journal.ts';
import { nowMs } from './stats.ts';

export interface DurableWriter {
  /** One append of a DATA-sized record to the project's journal, awaited alone: write + fdatasync, ms. */
  sample(): Promise<number>;
  close(): Promise<void>;
}

/**
 * One durable write on the filesystem the state dirs live on. Figures take its samples between
 * their own, because this disk's fsync latency moves by 10× from one minute to the next.
 */
export async function openDurableWriter(dir: string): Promise<DurableWriter> {
  const { journal }: { journal: Journal<{ seq: number; pad: string }> } = await openJournal(
    join(dir, 'fsync-probe.jsonl'),
  );
  let seq = 0;
  return {
    async sample() {
      const started = nowMs();
      await journal.append([{ seq: seq++, pad: 'x'.repeat(600) }]);
      return nowMs() - started;
    },
    close: () => journal.close(),
  };
}
