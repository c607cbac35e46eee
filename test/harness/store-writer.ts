/**
 * Crash-test child: files attempts into the master store at argv[2] for ever, from several
 * concurrent writers, so results files and `ended` records are in flight when the parent SIGKILLs
 * it. A job id is printed only after `finish` resolved, so every printed id is one the store
 * promised. argv[3] tags this run's job ids, so the parent can kill and restart it.
 */
import { attemptRecord, host } from './results.ts';
import { MasterStore } from '../../src/master/store.ts';

const [dir, run] = process.argv.slice(2);
if (!dir || run === undefined) throw new Error('usage: store-writer.ts <state dir> <run tag>');
const WRITERS = 8;

const store = await MasterStore.open(dir, true, () => undefined);
let next = 0;

async function writer(): Promise<never> {
  for (;;) {
    const job = `r${run}-j${next++}`;
    // The job id inside the hosts lets the parent tell one attempt's file from another's.
    await store.finish(attemptRecord({ job }), [
      host('127.0.0.1', { hostnames: [{ name: job, type: 'user' }] }),
    ]);
    process.stdout.write(`${job}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, writer));
