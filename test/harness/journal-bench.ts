/**
 * Measures journal appends per second for 2000 small records (fsync on), three ways:
 * all concurrent (one group commit), 16 writers each awaiting its previous append (group commit
 * under steady load), and one awaited append at a time (one fdatasync per record).
 * Run: node --import tsx test/harness/journal-bench.ts [dir]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from '../../src/storage/journal.ts';

const N = 2000;
const record = (id: number): { id: number; host: string; port: number; state: string } => ({
  id,
  host: `10.0.${id >> 8}.${id & 255}`,
  port: 443,
  state: 'open',
});

async function measure(
  name: string,
  run: (append: (id: number) => Promise<void>) => Promise<void>,
) {
  const dir = await mkdtemp(join(process.argv[2] ?? tmpdir(), 'scanmesh-bench-'));
  const { journal } = await openJournal<ReturnType<typeof record>>(join(dir, 'j.jsonl'));
  const started = process.hrtime.bigint();
  await run((id) => journal.append([record(id)]));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await journal.close();
  await rm(dir, { recursive: true });
  console.log(
    `${name.padEnd(36)} ${Math.round(N / seconds)
      .toString()
      .padStart(8)} appends/s`,
  );
}

await measure('group commit, 2000 concurrent', async (append) => {
  await Promise.all(Array.from({ length: N }, (_, id) => append(id)));
});
await measure('group commit, 16 awaiting writers', async (append) => {
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < N) await append(next++);
  };
  await Promise.all(Array.from({ length: 16 }, writer));
});
await measure('one fdatasync per record', async (append) => {
  for (let id = 0; id < N; id++) await append(id);
});
