import type { IPoint } from 'influx';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { InfluxWriter } from '../storage/influx-writer.ts';
import { memoryLog, tempDir, until } from '../../test/harness/in-process.ts';
import { attemptRecord, host } from '../../test/harness/results.ts';
import { InfluxOutbox } from './influx-outbox.ts';
import { MasterStore } from './store.ts';

const rec = (job: string): AttemptRecord => attemptRecord({ job, attempt: 1 });

/** An InfluxDB that takes every write and remembers which jobs' `scan` points it got. */
function fakeInflux() {
  const scans: string[] = [];
  const writer: InfluxWriter = {
    ensureDatabase: async () => undefined,
    write: async (points: readonly IPoint[]) => {
      for (const p of points) if (p.measurement === 'scan') scans.push(String(p.fields?.job));
    },
    ping: async () => true,
    query: async () => [],
  };
  return { scans, writer };
}

describe('the InfluxDB outbox', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('outbox');
  });
  afterEach(() => dir.remove());

  async function open() {
    const store = await MasterStore.open(dir.path, true, () => undefined);
    const influx = fakeInflux();
    const reads: string[] = [];
    const readResult = store.readResult.bind(store);
    store.readResult = (record) => {
      reads.push(record.job);
      return readResult(record);
    };
    const outbox = new InfluxOutbox({
      store,
      writer: influx.writer,
      clock: systemClock,
      logger: memoryLog('info').logger,
      batchPoints: 5000,
      retryMinMs: 10,
      retryMaxMs: 10,
    });
    const compare = async (record: AttemptRecord) => {
      await store.markCompared([record]);
      outbox.compared(record);
      while (store.outbox.has(`${record.job}#${record.attempt}`)) {
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    return { store, outbox, scans: influx.scans, reads, compare };
  }

  it('writes attempts once compared, in the order they were, and never reads the others', async () => {
    const { store, outbox, scans, reads, compare } = await open();
    for (const job of ['a', 'b', 'c']) await store.finish(rec(job), [host('127.0.0.1')]);
    outbox.kick();
    await new Promise((r) => setTimeout(r, 20));
    expect(scans).toEqual([]);
    await compare(rec('c'));
    expect(scans).toEqual(['c']);
    await compare(rec('a'));
    expect(scans).toEqual(['c', 'a']);
    // Waiting attempts were not looked at on the way.
    expect(reads).toEqual(['c', 'a']);
    expect([...store.outbox.keys()]).toEqual(['b#1']);
    await outbox.stop();
    await store.close();
  });

  it('after a restart, writes what was compared but not written, and nothing twice', async () => {
    const first = await open();
    for (const job of ['a', 'b', 'c']) await first.store.finish(rec(job), []);
    await first.store.markCompared([rec('a')]);
    await first.store.markCompared([rec('b')]);
    await first.store.markWritten([rec('a')]);
    await first.outbox.stop();
    await first.store.close();

    const again = await open();
    again.outbox.kick();
    while (again.store.outbox.has('b#1')) await new Promise((r) => setTimeout(r, 5));
    expect(again.scans).toEqual(['b']);
    expect([...again.store.outbox.keys()]).toEqual(['c#1']);
    // `a` was written before the restart: comparing it again (it had no `compared` record in
    // an older journal) must not write it twice.
    again.outbox.compared(rec('a'));
    await again.compare(rec('c'));
    expect(again.scans).toEqual(['b', 'c']);
    await again.outbox.stop();
    await again.store.close();
  });

  it('finishes setting aside a result a crash interrupted, and writes the rest', async () => {
    const first = await open();
    for (const job of ['a', 'b']) await first.store.finish(rec(job), [host('127.0.0.1')]);
    await first.store.markCompared([rec('a'), rec('b')]);
    // markDead's rename to dead/, with the crash before its `written` record.
    await mkdir(join(dir.path, 'dead'));
    await rename(join(dir.path, 'results', 'a~1.json'), join(dir.path, 'dead', 'a~1.json'));
    await first.outbox.stop();
    await first.store.close();

    const again = await open();
    again.outbox.kick();
    await until(() => again.store.outbox.size === 0, 'the outbox to empty');
    expect(again.scans).toEqual(['b']);
    await again.outbox.stop();
    await again.store.close();
    const third = await open();
    expect(third.store.outbox.size).toBe(0);
    await third.store.close();
  });

  it('retries a drain that failed on something other than InfluxDB', async () => {
    const { store, outbox, scans } = await open();
    await store.finish(rec('a'), [host('127.0.0.1')]);
    await store.markCompared([rec('a')]);
    const readResult = store.readResult.bind(store);
    let failures = 1;
    store.readResult = (record) => {
      if (failures-- > 0)
        return Promise.reject(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }));
      return readResult(record);
    };
    outbox.compared(rec('a'));
    await until(() => store.outbox.size === 0, 'the outbox to empty');
    expect(scans).toEqual(['a']);
    await outbox.stop();
    await store.close();
  });
});
