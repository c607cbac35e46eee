import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SERVICE_USER, type HostFacts } from './common.ts';

/**
 * What the planners need to know about this host, found out without changing anything (a
 * dry run probes too). With a --prefix, files are looked up under it; nmap and the user are
 * always this machine's, since a prefix stages files and runs no commands.
 */
export function probeHost(prefix: string, env: NodeJS.ProcessEnv = process.env): HostFacts {
  return {
    nmapPath: onPath('nmap', env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'),
    userExists: userExists(SERVICE_USER),
    exists: (path) => existsSync(join(prefix, path)),
  };
}

/** Like `command -v`: the first executable of that name on PATH. */
export function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function userExists(name: string): boolean {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** uid and gid of a user and a group, for chown; null when they do not exist (yet). */
export function idsOf(owner: string, group: string): { uid: number; gid: number } | null {
  const field = (db: string, name: string) => {
    try {
      const line = execFileSync('getent', [db, name], { encoding: 'utf8' });
      return Number(line.split(':')[2]);
    } catch {
      return null;
    }
  };
  const uid = field('passwd', owner);
  const gid = field('group', group);
  return uid === null || gid === null ? null : { uid, gid };
}
