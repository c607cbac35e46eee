import { readFile, stat } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';

export interface CommandsWatcherOptions {
  path: string;
  clock: Clock;
  logger: Logger;
  /** How often to look at the file, ms. Polling works on every filesystem, NFS and bind mounts too. */
  pollMs: number;
  onChange(text: string): void;
}

/**
 * Reads the commands file now and again whenever its size, mtime or inode changes. A file that is
 * missing for a moment (an editor saving by rename) changes nothing: jobs are only withdrawn when
 * the file says so.
 */
export function watchCommandsFile(options: CommandsWatcherOptions): {
  stop(): void;
  check(): Promise<void>;
} {
  const { path, clock, logger } = options;
  let last = '';
  let missingLogged = false;
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const s = await stat(path);
      const sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
      missingLogged = false;
      if (sig === last) return;
      const text = await readFile(path, 'utf8');
      last = sig;
      options.onChange(text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw err;
      if (!missingLogged) logger.warn({ path }, 'commands file not found; waiting for it');
      missingLogged = true;
    } finally {
      busy = false;
    }
  };
  const timer: TimerHandle = clock.setInterval(() => {
    check().catch((err: unknown) => logger.error({ err, path }, 'cannot read the commands file'));
  }, options.pollMs);
  return { stop: () => clock.clear(timer), check };
}
