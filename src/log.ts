import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  /** Where JSON lines go. Tests pass a sink; the CLI passes stdout or a pretty stream. */
  destination?: DestinationStream;
}

/** One root logger per process; every part gets a child with its `component`. */
export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  return options.destination ? pino({ level }, options.destination) : pino({ level });
}
