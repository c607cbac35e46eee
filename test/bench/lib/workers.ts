import { join } from 'node:path';
import { WORKER_NODE_FLAGS } from '../../../src/cli/node-flags.js';
import type { WorkerHostConfig } from '../child/worker-host.ts';
import { Child, type ChildMessage } from './child.ts';
import type { BenchMesh } from './mesh.ts';
import { waitUntil } from './stats.ts';

export interface WorkerHosts {
  readonly ids: string[];
  readonly children: Child[];
  /** What each child said once its workers were up (RSS of the idle process). */
  readonly ready: ChildMessage[];
  /** What each child measured so far: peak RSS, unacknowledged parts, nmap run times. */
  report(): Promise<HostReport[]>;
  stop(): Promise<void>;
}

export interface HostReport extends ChildMessage {
  rssKB: number;
  maxRssKB: number;
  /** The most DATA parts its workers held unacknowledged at once. */
  maxUnacked: number;
  /** Job id → epoch ms when its JOB reached the worker's core and when nmap exited. */
  runs: Record<string, { received: number; ran: number }>;
  problems: string[];
}

export interface WorkerHostsOptions {
  mesh: BenchMesh;
  dir: string;
  count: number;
  nmapPath: string;
  /** Processes to spread the workers over; defaults to one per core, at most one per worker. */
  processes?: number;
}

/**
 * `count` real workers in child processes, and resolves once the master knows every one of them
 * (so a figure's clock never includes discovery).
 */
export async function startWorkerHosts(o: WorkerHostsOptions): Promise<WorkerHosts> {
  const processes = Math.min(o.count, o.processes ?? 2);
  const ids = Array.from({ length: o.count }, (_, i) => `w${i + 1}`);
  const children = Array.from({ length: processes }, (_, p) => {
    const config: WorkerHostConfig = {
      brokerPort: o.mesh.broker.port,
      ids: ids.filter((_, i) => i % processes === p),
      stateDir: join(o.dir, 'workers'),
      nmapPath: o.nmapPath,
      masterPubPath: o.mesh.masterPubPath,
      slots: 1, // the seed's default, and what the figures' limits assume
    };
    // Each worker stands for a machine of its own: its fsyncs must not queue behind the other
    // workers' on libuv's default four threads.
    const threads = String(Math.min(128, Math.max(4, 4 * config.ids.length)));
    // With the V8 options every production worker runs with, so their memory is what ships.
    return new Child(
      'worker-host',
      config,
      `worker-host-${p + 1}`,
      { UV_THREADPOOL_SIZE: threads },
      WORKER_NODE_FLAGS,
    );
  });
  const ready = await Promise.all(children.map((c) => c.next('ready')));
  const known = o.mesh.master.core.state.workers;
  await waitUntil(
    () => ids.every((id) => known.get(id)?.state === 'WAITING'),
    `the master to know ${ids.length} workers`,
    60_000,
  );
  return {
    ids,
    children,
    ready,
    report: () =>
      Promise.all(
        children.map((c) => {
          c.send({ type: 'report' });
          return c.next<HostReport>('report', 60_000);
        }),
      ),
    stop: async () => {
      await Promise.all(children.map((c) => c.stop(120_000)));
    },
  };
}
