/**
 * Crash-test child: appends `{ id, pad }` records to the journal at argv[2] for ever, from several
 * concurrent writers so group commits are in flight when the parent SIGKILLs it. An id is printed
 * to stdout only after its `append` resolved, so every printed id is one the journal promised.
 * Ids continue from the records already in the file, so the parent can kill and restart it.
 */
import { openJournal } from '../../src/storage/journal.ts';

interface Row {
  id: number;
  pad: string;
}

const path = process.argv[2];
if (!path) throw new Error('usage: journal-writer.ts <journal path>');
const WRITERS = 8;
const pad = 'x'.repeat(300);

const { journal, records } = await openJournal<Row>(path);
let next = records.length;

async function writer(): Promise<never> {
  for (;;) {
    const id = next++;
    await journal.append([{ id, pad }]);
    process.stdout.write(`${id}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, writer));
