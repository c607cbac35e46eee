import { fstatSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureDir, fsyncDir, writeFileAtomic } from './atomic-file.ts';

let dir: string;
let proto: FileHandle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-atomic-'));
  const handle = await open(join(dir, 'probe'), 'w');
  proto = Object.getPrototypeOf(handle) as FileHandle;
  await handle.close();
  await rm(join(dir, 'probe'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Records every fsync as 'dir' or 'file', plus what `target` held at that moment. */
function watchSyncs(target: string): { kind: string; target: string }[] {
  const seen: { kind: string; target: string }[] = [];
  const original = proto.sync;
  vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
    seen.push({
      kind: fstatSync(this.fd).isDirectory() ? 'dir' : 'file',
      target: readFileSync(target, 'utf8'),
    });
    return original.call(this);
  });
  return seen;
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file with string or Buffer data, leaving no temporary file', async () => {
    const path = join(dir, 'state.json');
    await writeFileAtomic(path, '{"v":1}');
    expect(await readFile(path, 'utf8')).toBe('{"v":1}');
    await writeFileAtomic(path, Buffer.from('{"v":2}'));
    expect(await readFile(path, 'utf8')).toBe('{"v":2}');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('fsyncs the data before the rename and the directory after it', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    const syncs = watchSyncs(path);
    await writeFileAtomic(path, 'new');
    // The file fsync happens while the target is still old (rename not done), the directory
    // fsync once the rename made it new: the only order that survives a power loss.
    expect(syncs).toEqual([
      { kind: 'file', target: 'old' },
      { kind: 'dir', target: 'new' },
    ]);
  });

  it('fails with SCANMESH_STORE_FAILED, keeps the target and leaves no litter', async () => {
    const path = join(dir, 'taken');
    await mkdir(path); // renaming a file over a directory fails
    const error = await writeFileAtomic(path, 'data').then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'SCANMESH_STORE_FAILED' });
    expect((error as Error).cause).toMatchObject({ code: 'EISDIR' });
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('fails with SCANMESH_STORE_FAILED when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'f'), 'x')).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
    });
  });
});

describe('fsyncDir and ensureDir', () => {
  it('fsyncDir syncs the directory itself', async () => {
    const syncs = vi.spyOn(proto, 'sync');
    await fsyncDir(dir);
    expect(syncs).toHaveBeenCalledTimes(1);
    await expect(fsyncDir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ensureDir fsyncs the parent of every directory it creates, and nothing if none', async () => {
    const syncs = vi.spyOn(proto, 'sync');
    await ensureDir(join(dir, 'a', 'b', 'c'));
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['c']);
    expect(syncs).toHaveBeenCalledTimes(3); // dir (for a), a (for b), b (for c)
    await ensureDir(join(dir, 'a', 'b'));
    expect(syncs).toHaveBeenCalledTimes(3);
  });
});
