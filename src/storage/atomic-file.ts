import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ScanmeshError } from '../errors.ts';

/**
 * Make a directory's entries durable. A file's own fsync persists its bytes, not the name that
 * points at it: after a create or a rename, only an fsync of the directory guarantees the name
 * survives a power loss (POSIX leaves it undefined; ext4, XFS and btrfs differ in practice).
 */
export async function fsyncDir(path: string): Promise<void> {
  // Windows cannot open a directory for fsync and orders metadata itself.
  if (process.platform === 'win32') return;
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `mkdir -p` whose result survives a power loss: every directory it created is fsynced into its
 * parent, from the topmost new one down.
 */
export async function ensureDir(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    created.push(dir);
    if (dir === first || dirname(dir) === dir) break;
  }
  for (const dir of created.reverse()) await fsyncDir(dirname(dir));
}

/**
 * Replace `path` atomically with what `fill` writes: readers (and a reboot) see either the old
 * file or the complete new one, never a mix. See `writeTmpFile` and `renameDurably` for the steps.
 * Its three steps in a row cost latency; a file nobody reads until a later record names it can
 * skip the atomicity and sync bytes and name at once (durable-dir.ts).
 * `tmpPath` defaults to a unique name, so concurrent writers of one path never share a file; a
 * caller that owns `path` alone may pass a fixed name so crashes leave no growing litter.
 */
export async function replaceFile(
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
  tmpPath: string = uniqueTmpPath(path),
): Promise<void> {
  await writeTmpFile(tmpPath, fill);
  await renameDurably(tmpPath, path);
}

/**
 * Steps 1 and 2 of an atomic replace: write the temporary file (in the target's directory,
 * because rename is atomic only within one filesystem) and fsync it, so the rename can never
 * become durable before the data it points at. On failure the temporary file is removed.
 */
export async function writeTmpFile(
  tmpPath: string,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  try {
    const handle = await open(tmpPath, 'w');
    try {
      await fill(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(tmpPath, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Steps 3 and 4: rename over the target, then fsync the directory so the rename itself survives
 * a power loss. If the rename fails the temporary file is removed and the target is untouched; if
 * only the directory fsync fails, the target has the new content now but not provably after a
 * crash, so the caller must treat the outcome as unknown.
 */
export async function renameDurably(tmpPath: string, path: string): Promise<void> {
  try {
    await rename(tmpPath, path);
  } catch (err) {
    await rm(tmpPath, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Write `data` to `path` atomically and durably (see `replaceFile`). */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  try {
    await replaceFile(path, (handle) => handle.writeFile(data));
  } catch (err) {
    throw new ScanmeshError('SCANMESH_STORE_FAILED', `could not write ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}

function uniqueTmpPath(path: string): string {
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}
