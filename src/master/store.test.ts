import { fstatSync } from 'node:fs';
import { mkdtemp, open as openFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runAndKill } from '../../test/harness/crash.ts';
import { attemptRecord, host } from '../../test/harness/results.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import type { MasterRecord } from './core/types.ts';
import { MasterStore } from './store.ts';

let dir: string;
let proto: FileHandle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-store-'));
  const handle = await openFile(join(dir, 'probe'), 'w');
  proto = Object.getPrototypeOf(handle) as FileHandle;
  await handle.close();
  await rm(join(dir, 'probe'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function attempt(job: string): AttemptRecord {
  return attemptRecord({ job });
}

const open = () => MasterStore.open(dir, true, () => undefined);

describe('master store outbox', () => {
  it('a result marked written while the journal is compacted does not come back as pending', async () => {
    // The chaos run's finding: the master started, re-filed an attempt, its outbox wrote it to
    // InfluxDB while the start-up compaction ran, and the journal kept the attempt as pending.
    const store = await open();
    await store.finish(attempt('j1'), []);
    await Promise.all([store.markWritten([attempt('j1')]), store.compact([])]);
    expect(store.outbox.size).toBe(0);
    await store.close();

    const reopened = await open();
    expect([...reopened.outbox.keys()]).toEqual([]);
    await reopened.close();
  });

  it('a result not yet written survives compaction and a restart', async () => {
    const store = await open();
    await store.finish(attempt('j1'), []);
    await store.compact([]);
    await store.close();
    const reopened = await open();
    expect([...reopened.outbox.values()].map((r) => r.job)).toEqual(['j1']);
    await reopened.close();
  });
});

const journalText = () => readFile(join(dir, 'journal.jsonl'), 'utf8');
const isDir = (handle: FileHandle) => fstatSync(handle.fd).isDirectory();
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const eio = () => Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });

/** Reopens the store and returns the journal records it replayed, then closes it. */
async function replay(): Promise<{
  records: MasterRecord[];
  outbox: string[];
  uncompared: string[];
}> {
  const records: MasterRecord[] = [];
  const store = await MasterStore.open(dir, true, (r) => records.push(r));
  const state = {
    records,
    outbox: [...store.outbox.keys()],
    uncompared: [...store.uncompared.keys()],
  };
  await store.close();
  return state;
}

describe('filing a result: the `ended` record never outruns its results file', () => {
  it('appends `ended` only once the file is fsynced and a directory fsync covering its name is done', async () => {
    const store = await open();
    const original = proto.sync;
    let releaseDir!: () => void;
    let fileSynced = false;
    vi.spyOn(proto, 'sync').mockImplementation(async function (this: FileHandle) {
      if (!isDir(this)) {
        await original.call(this);
        fileSynced = true;
        return;
      }
      await new Promise<void>((resolve) => (releaseDir = resolve));
      return original.call(this);
    });
    const filed = store.finish(attempt('j1'), [host('127.0.0.1')]);
    await vi.waitFor(() => expect(fileSynced && releaseDir !== undefined).toBe(true));
    await settle();
    // The bytes are durable, the name is not yet: a durable `ended` now could name a lost file.
    expect(await journalText()).not.toContain('"ended"');
    releaseDir();
    await filed;
    expect(await journalText()).toContain('"ended"');
    expect((await store.readResult(attempt('j1'))).hosts).toEqual([host('127.0.0.1')]);
    await store.close();
  });

  const failAt: Record<string, () => void> = {
    'writing the bytes': () => vi.spyOn(proto, 'writeFile').mockRejectedValue(eio()),
    "the file's fsync": () => {
      const original = proto.sync;
      vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
        return isDir(this) ? original.call(this) : Promise.reject(eio());
      });
    },
    "the directory's fsync": () => {
      const original = proto.sync;
      vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
        return isDir(this) ? Promise.reject(eio()) : original.call(this);
      });
    },
  };
  for (const [step, fail] of Object.entries(failAt)) {
    it(`a failure at ${step} rejects with SCANMESH_STORE_FAILED and files nothing`, async () => {
      const store = await open();
      fail();
      await expect(store.finish(attempt('j1'), [])).rejects.toMatchObject({
        code: 'SCANMESH_STORE_FAILED',
        cause: { code: 'EIO' },
      });
      vi.restoreAllMocks();
      await store.close();
      expect(await readdir(join(dir, 'results'))).toEqual([]);
      const after = await replay();
      expect(after.records.filter((r) => r.t === 'ended')).toEqual([]);
      expect(after.outbox).toEqual([]);
    });
  }

  // What a crash (power loss included) can leave at each step before `ended` is durable.
  const leftovers: Record<string, string> = {
    'created, no bytes yet': '',
    'torn: bytes partly written': JSON.stringify({ record: attempt('j1'), hosts: [] }).slice(0, 40),
    'whole, but its `ended` record was never durable': JSON.stringify({
      record: attempt('j1'),
      hosts: [host('10.0.0.9')],
    }),
  };
  for (const [state, text] of Object.entries(leftovers)) {
    it(`a results file left ${state} is never taken for a result, and filing the attempt again replaces it`, async () => {
      await (await open()).close();
      await writeFile(join(dir, 'results', 'j1~1.json'), text);

      const restarted = await replay();
      expect(restarted.records).toEqual([]);
      expect(restarted.outbox).toEqual([]);
      expect(restarted.uncompared).toEqual([]);

      const store = await open();
      await store.finish(attempt('j1'), [host('127.0.0.1')]);
      expect(await store.readResult(attempt('j1'))).toEqual({
        record: attempt('j1'),
        hosts: [host('127.0.0.1')],
      });
      await store.close();
      expect((await replay()).outbox).toEqual(['j1#1']);
    });
  }

  it('after SIGKILLs at random points, every attempt it acknowledged has its `ended` record and an intact file', async () => {
    const acknowledged: string[] = [];
    for (let run = 0; run < 2; run++) {
      const lines = await runAndKill(
        join('test', 'harness', 'store-writer.ts'),
        [dir, String(run)],
        (l) => l.length >= 150,
      );
      acknowledged.push(...lines);
    }
    const store = await open();
    const ended = [...store.outbox.values()];
    expect(ended.map((r) => r.job)).toEqual(expect.arrayContaining(acknowledged));
    for (const record of ended) {
      // Each file an `ended` record names is complete: its own job's record and hosts.
      expect(await store.readResult(record)).toEqual({
        record,
        hosts: [host('127.0.0.1', { hostnames: [{ name: record.job, type: 'user' }] })],
      });
    }
    await store.close();
  });
});
