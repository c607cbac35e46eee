import pretty from 'pino-pretty';
import { createLogger, type Logger } from '../log.ts';
import type { LevelWithSilent } from 'pino';

/** JSON lines for machines; pretty lines when a person watches a terminal. */
export function cliLogger(level: string): Logger {
  const lvl = level as LevelWithSilent;
  if (process.stdout.isTTY) {
    return createLogger({ level: lvl, destination: pretty({ colorize: true, sync: true }) });
  }
  return createLogger({ level: lvl });
}
