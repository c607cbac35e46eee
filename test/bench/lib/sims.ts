import type { SimConfig } from '../child/sim-workers.ts';
import { Child } from './child.ts';

export interface SimFleet {
  readonly children: Child[];
  /** Epoch ms: when the first child began to connect, and when the last was done. */
  readonly startedAt: number;
  readonly doneAt: number;
  stop(): Promise<void>;
}

/**
 * Simulated workers spread over child processes, `sizes[i]` in the i-th: a figure that kills one
 * process kills exactly its share. Resolves once every client is connected and subscribed.
 */
export async function startSims(
  brokerPort: number,
  sizes: readonly number[],
  o: { prefix: string; mode: SimConfig['mode']; persistent: boolean },
): Promise<SimFleet> {
  let next = 0;
  const children = sizes.map((size, i) => {
    const ids = Array.from({ length: size }, () => `${o.prefix}${++next}`);
    const config: SimConfig = {
      brokerPort,
      ids,
      mode: o.mode,
      persistent: o.persistent,
      connectConcurrency: 50,
    };
    return new Child('sim-workers', config, `sims-${o.prefix}${i + 1}`);
  });
  const reports = await Promise.all(
    children.map((c) => c.next<{ type: string; startedAt: number; doneAt: number }>('connected')),
  );
  return {
    children,
    startedAt: Math.min(...reports.map((r) => r.startedAt)),
    doneAt: Math.max(...reports.map((r) => r.doneAt)),
    stop: async () => {
      await Promise.all(children.map((c) => c.stop(30_000)));
    },
  };
}

/** `total` split over `processes` children as evenly as possible. */
export function shares(total: number, processes: number): number[] {
  return Array.from(
    { length: processes },
    (_, i) => Math.floor(total / processes) + (i < total % processes ? 1 : 0),
  );
}
