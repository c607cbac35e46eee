import type { InfluxdHandle } from '../../harness/influxd.ts';
import type { BenchOptions } from '../options.ts';

/** What every figure gets: the sizes, a scratch dir of its own, the shared influxd, a logger. */
export interface BenchContext {
  options: BenchOptions;
  influxd: InfluxdHandle;
  /** A fresh directory under the run's temp dir. */
  scratch(name: string): Promise<string>;
  /** Progress and details, on stderr, prefixed with the figure. */
  log(message: string): void;
}
