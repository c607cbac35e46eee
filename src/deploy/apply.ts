import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ScanmeshError } from '../errors.ts';
import { describe, headline, type Action } from './actions.ts';
import { idsOf } from './facts.ts';

export interface ApplyOptions {
  /**
   * Root of the target file system. "/" installs on this machine; anything else stages the
   * files under it (like DESTDIR) and runs no command, since useradd, apt-get and systemctl
   * act on the live system whatever the prefix.
   */
  prefix: string;
  dryRun: boolean;
  out: (line: string) => void;
  /** Runs one command; for tests. */
  exec?: (argv: string[]) => void;
  /** Effective uid; for tests. */
  uid?: number;
}

export async function applyActions(actions: readonly Action[], o: ApplyOptions): Promise<void> {
  if (o.dryRun) {
    o.out(`dry run: nothing is changed. ${actions.length} steps, files under ${o.prefix}:`);
    for (const a of actions) o.out(describe(a));
    return;
  }
  const live = resolve(o.prefix) === '/';
  if (live && (o.uid ?? process.getuid?.()) !== 0) {
    throw new ScanmeshError(
      'SCANMESH_INSTALL_FAILED',
      'installing needs root: run it with sudo, or look first with --dry-run',
    );
  }
  const exec =
    o.exec ?? ((argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: 'inherit' }));
  for (const a of actions) {
    o.out(headline(a));
    try {
      switch (a.kind) {
        case 'run':
          if (live) exec(a.argv);
          else o.out('      skipped: with --prefix only files are written; run it on the target');
          break;
        case 'dir': {
          const path = join(o.prefix, a.path);
          await mkdir(path, { recursive: true });
          await chmod(path, a.mode);
          if (live) await own(path, a.owner, a.group);
          break;
        }
        case 'file':
          await writeFile(join(o.prefix, a.path), a.content, a.mode, live ? a : null);
          break;
        case 'keep':
          break;
      }
    } catch (err) {
      if (err instanceof ScanmeshError) throw err;
      throw new ScanmeshError(
        'SCANMESH_INSTALL_FAILED',
        `${headline(a)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * Created with its final mode (a secret is never readable by others, not even for a moment),
 * owned before it gets its name, then renamed over the old file: a reader sees the old file or
 * the new one, never half of one.
 */
async function writeFile(
  path: string,
  content: string,
  mode: number,
  owner: { owner: string; group: string } | null,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(tmp, mode); // the umask may have taken bits away
    if (owner) await own(tmp, owner.owner, owner.group);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function own(path: string, owner: string, group: string): Promise<void> {
  const ids = idsOf(owner, group);
  if (!ids) throw new Error(`user ${owner} or group ${group} does not exist`);
  await chown(path, ids.uid, ids.gid);
}
