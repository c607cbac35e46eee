import { stat } from 'node:fs/promises';
import { ScanmeshError } from '../errors.ts';

/** Whether `path` exists; anything but "no such file" (permissions, I/O) is a store failure. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ScanmeshError('SCANMESH_STORE_FAILED', `cannot stat ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}
