/**
 * Crash-test child for the spool: puts DATA parts for ever from several concurrent writers and
 * acks every seq that is not a multiple of 10 right after its put. It prints `put <seq>` after a
 * put resolved and `ack <seq>` after an ack resolved; a tiny compaction threshold makes the
 * parent's SIGKILL land in compactions as well as in appends. Seqs start at argv[3].
 */
import { openSpool } from '../../src/worker/spool.ts';
import { hostPart } from './spool-fixtures.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: spool-writer.ts <spool dir> <first seq>');
const WRITERS = 8;

const spool = await openSpool(dir, { compactAtBytes: 16 * 1024 });
let next = Number(process.argv[3] ?? 0);

async function writer(): Promise<never> {
  for (;;) {
    const seq = next++;
    await spool.put(hostPart(seq));
    process.stdout.write(`put ${seq}\n`);
    if (seq % 10 !== 0) {
      await spool.ack('j-crash-1', 1, seq);
      process.stdout.write(`ack ${seq}\n`);
    }
  }
}

await Promise.all(Array.from({ length: WRITERS }, writer));
