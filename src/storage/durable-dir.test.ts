import { existsSync, fstatSync, readFileSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDurableDir, type DurableDir } from './durable-dir.ts';

let dir: string;
let proto: FileHandle;
let durable: DurableDir;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-durable-dir-'));
  const handle = await open(join(dir, 'probe'), 'w');
  proto = Object.getPrototypeOf(handle) as FileHandle;
  await handle.close();
  await rm(join(dir, 'probe'));
  durable = await openDurableDir(dir);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await durable.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const isDir = (handle: FileHandle) => fstatSync(handle.fd).isDirectory();
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Every directory fsync waits for the test's `release()`; `started` counts those begun. File
 * fsyncs run as usual. `events` logs both, with what the disk held when each began.
 */
function gateDirSyncs(watched: string) {
  const original = proto.sync;
  const gates: (() => void)[] = [];
  const events: string[] = [];
  let started = 0;
  vi.spyOn(proto, 'sync').mockImplementation(async function (this: FileHandle) {
    if (!isDir(this)) {
      events.push(`file start: ${readFileSync(watched, 'utf8')}`);
      await original.call(this);
      events.push('file end');
      return;
    }
    started += 1;
    events.push(`dir start: ${existsSync(watched) ? 'named' : 'unnamed'}`);
    await new Promise<void>((resolve) => gates.push(resolve));
    await original.call(this);
    events.push('dir end');
  });
  return {
    events,
    started: () => started,
    release: async () => {
      for (const open of gates.splice(0)) open();
      await settle();
    },
  };
}

describe('DurableDir.writeFile', () => {
  it('writes under the final name, truncating an older file, and leaves nothing else', async () => {
    await writeFile(join(dir, 'r.json'), '{"old":"much longer than the new content"}');
    await durable.writeFile('r.json', '{"v":1}');
    expect(await readFile(join(dir, 'r.json'), 'utf8')).toBe('{"v":1}');
    await durable.writeFile('s.json', Buffer.from('{"v":2}'));
    expect((await readdir(dir)).sort()).toEqual(['r.json', 's.json']);
  });

  it('resolves only once the bytes are fsynced and a directory fsync begun after the name existed is done', async () => {
    const path = join(dir, 'r.json');
    const gate = gateDirSyncs(path);
    let resolved = false;
    const written = durable.writeFile('r.json', 'the results').then(() => (resolved = true));
    await vi.waitFor(() => expect(gate.events).toContain('file end'));
    await settle();
    // Bytes durable, name not yet: a record pointing at the file must not be written now.
    const early = resolved;
    await gate.release();
    await written;
    expect(early).toBe(false);
    expect(gate.events).toEqual([
      'dir start: named',
      'file start: the results',
      'file end',
      'dir end',
    ]);
  });

  it('rejects and removes the file when its fsync fails', async () => {
    const original = proto.sync;
    vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
      if (isDir(this)) return original.call(this);
      return Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    });
    await expect(durable.writeFile('r.json', 'x')).rejects.toMatchObject({ code: 'EIO' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('DurableDir.sync (group commit)', () => {
  it('makes callers that arrive during a directory fsync wait for the next one, which they share', async () => {
    const gate = gateDirSyncs(join(dir, 'unused'));
    const done: string[] = [];
    const first = durable.sync().then(() => done.push('first'));
    await vi.waitFor(() => expect(gate.started()).toBe(1));
    // This fsync may have begun before these callers' names existed: it must not answer for them.
    const later = [durable.sync(), durable.sync(), durable.sync()].map((p, i) =>
      p.then(() => done.push(`later ${i}`)),
    );
    await settle();
    expect(gate.started()).toBe(1);
    await gate.release();
    expect(done).toEqual(['first']);
    expect(gate.started()).toBe(2);
    await gate.release();
    await Promise.all([first, ...later]);
    expect(done).toEqual(['first', 'later 0', 'later 1', 'later 2']);
    expect(gate.started()).toBe(2);
  });

  it('files a burst of concurrent writes with far fewer directory fsyncs than files', async () => {
    const original = proto.sync;
    let dirSyncs = 0;
    vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
      if (isDir(this)) dirSyncs += 1;
      return original.call(this);
    });
    const names = Array.from({ length: 40 }, (_, i) => `r${i}.json`);
    await Promise.all(names.map((name) => durable.writeFile(name, name)));
    expect(dirSyncs).toBeGreaterThan(0);
    expect(dirSyncs).toBeLessThan(names.length / 4);
    expect((await readdir(dir)).sort()).toEqual(names.sort());
  });

  it('fails for good after a failed directory fsync: no later fsync may vouch for lost names', async () => {
    const original = proto.sync;
    let failed = false;
    vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
      if (!isDir(this) || failed) return original.call(this);
      failed = true;
      return Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    });
    await expect(durable.writeFile('a.json', 'a')).rejects.toMatchObject({ code: 'EIO' });
    await expect(durable.sync()).rejects.toMatchObject({ code: 'EIO' });
    await expect(durable.writeFile('b.json', 'b')).rejects.toMatchObject({ code: 'EIO' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('close waits for the fsync in flight and refuses later calls', async () => {
    const gate = gateDirSyncs(join(dir, 'unused'));
    let synced = false;
    const sync = durable.sync().then(() => (synced = true));
    let closed = false;
    const close = durable.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    await gate.release();
    await Promise.all([sync, close]);
    expect(synced).toBe(true);
    await expect(durable.sync()).rejects.toThrow(/closed/);
  });
});
