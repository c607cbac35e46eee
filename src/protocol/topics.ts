import { ScanmeshError } from '../errors.ts';

/**
 * Every topic lives under one versioned root so several meshes (or protocol versions) can share a
 * broker, and so an external broker's ACL can grant a whole mesh with one pattern.
 *
 *   <root>master/hello          S_HELLO     master → all workers
 *   <root>workers/<id>/hello    CL_HELLO    worker → master
 *   <root>workers/<id>/bye      CL_BYE      the broker, as the worker's last will
 *   <root>workers/<id>/jobs     JOB, CANCEL master → one worker
 *   <root>workers/<id>/data     DATA        worker → master
 *   <root>workers/<id>/ack      DATA_ACK    master → one worker
 *   <root>master/status         S_STATUS    master → anyone (retained)
 */
export const DEFAULT_ROOT = 'scanmesh/v1/';

export type WorkerChannel = 'hello' | 'bye' | 'jobs' | 'data' | 'ack';
const CHANNELS: ReadonlySet<string> = new Set(['hello', 'bye', 'jobs', 'data', 'ack']);

/** Worker ids become topic levels and InfluxDB tag values: keep them to a safe alphabet. */
export const WORKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Topics {
  readonly root: string;
  sHello(): string;
  /** The master's retained status (S_STATUS). */
  status(): string;
  worker(id: string, channel: WorkerChannel): string;
  /** Subscription pattern for one channel of every worker. */
  allWorkers(channel: WorkerChannel): string;
  /** The worker id and channel of a worker topic, or null for any other topic. */
  parseWorker(topic: string): { id: string; channel: WorkerChannel } | null;
}

export function assertWorkerId(id: string): string {
  if (!WORKER_ID_PATTERN.test(id)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `worker id "${id}" must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return id;
}

export function createTopics(root: string = DEFAULT_ROOT): Topics {
  if (!/^[^#+\s]+\/$/.test(root)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `topic root "${root}" must end with "/" and contain no wildcards or spaces`,
    );
  }
  const workersPrefix = `${root}workers/`;
  return {
    root,
    sHello: () => `${root}master/hello`,
    status: () => `${root}master/status`,
    worker: (id, channel) => `${workersPrefix}${id}/${channel}`,
    allWorkers: (channel) => `${workersPrefix}+/${channel}`,
    parseWorker(topic) {
      if (!topic.startsWith(workersPrefix)) return null;
      const rest = topic.slice(workersPrefix.length).split('/');
      if (rest.length !== 2) return null;
      const [id, channel] = rest as [string, string];
      if (!WORKER_ID_PATTERN.test(id) || !CHANNELS.has(channel)) return null;
      return { id, channel: channel as WorkerChannel };
    },
  };
}
