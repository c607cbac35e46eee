import type { Topics, WorkerChannel } from '../protocol/topics.ts';
import type { Role } from './users.ts';

/**
 * Who a connection is, as far as the ACL cares. Decided once at CONNECT (auth.ts) and never
 * changed for the life of the connection.
 */
export type Principal = { kind: 'anonymous' } | { kind: 'user'; role: Role; name: string };

/** What a client asks to send; `retain` matters because a retained job would replay forever. */
export interface PublishRequest {
  topic: string;
  retain: boolean;
}

export const WORKER_CLIENT_PREFIX = 'scanmesh-worker-';
export const MASTER_CLIENT_PREFIX = 'scanmesh-master-';

/**
 * A worker's client id is pinned to its username so it cannot take over (and so disconnect)
 * another worker's session; a master's id only needs the master prefix.
 */
export function clientIdAllowed(principal: Principal, clientId: string): boolean {
  if (principal.kind === 'anonymous') return true;
  if (principal.role === 'worker') return clientId === `${WORKER_CLIENT_PREFIX}${principal.name}`;
  return clientId.startsWith(MASTER_CLIENT_PREFIX) && clientId.length > MASTER_CLIENT_PREFIX.length;
}

/**
 * Publish rules. A worker may talk only on its own hello and data topics; a master may greet all
 * workers, publish its status, and send jobs and acks to any one concrete worker. Retaining is
 * refused except for the master's status: a retained job would be re-run by every fresh
 * subscription, while a retained status is exactly what a newcomer (`scanmesh status`) needs.
 */
export function canPublish(principal: Principal, msg: PublishRequest, topics: Topics): boolean {
  if (principal.kind === 'anonymous') return underRoot(msg.topic, topics);
  if (principal.role === 'master' && msg.topic === topics.status()) return true;
  if (msg.retain) return false;
  if (principal.role === 'master') {
    if (msg.topic === topics.sHello()) return true;
    const where = topics.parseWorker(msg.topic);
    return where !== null && (where.channel === 'jobs' || where.channel === 'ack');
  }
  return (
    msg.topic === topics.worker(principal.name, 'hello') ||
    msg.topic === topics.worker(principal.name, 'data')
  );
}

/** A last will: a worker's is its CL_BYE, which it may not publish directly; others as publish. */
export function canWill(principal: Principal, will: PublishRequest, topics: Topics): boolean {
  if (principal.kind === 'user' && principal.role === 'worker') {
    return !will.retain && will.topic === topics.worker(principal.name, 'bye');
  }
  return canPublish(principal, will, topics);
}

const MASTER_HEARS: readonly WorkerChannel[] = ['hello', 'bye', 'data'];

/**
 * Subscribe rules. Workers get exact topics only (no wildcards, so no listening to other
 * workers' jobs); a master may use the `workers/+/<channel>` form or name one worker. Anyone
 * with an account may read the master's status, by its exact name.
 */
export function canSubscribe(principal: Principal, filter: string, topics: Topics): boolean {
  if (principal.kind === 'anonymous') return underRoot(filter, topics);
  if (filter === topics.status()) return true;
  if (principal.role === 'worker') {
    return (
      filter === topics.sHello() ||
      filter === topics.worker(principal.name, 'jobs') ||
      filter === topics.worker(principal.name, 'ack')
    );
  }
  if (MASTER_HEARS.some((channel) => filter === topics.allWorkers(channel))) return true;
  const where = topics.parseWorker(filter);
  return where !== null && MASTER_HEARS.includes(where.channel);
}

/**
 * Anonymous mode opens the whole root, and only the root: the broker's `$SYS` tree and other
 * meshes sharing a root prefix stay out of reach. `topics.root` always ends with "/".
 */
function underRoot(topicOrFilter: string, topics: Topics): boolean {
  return topicOrFilter.startsWith(topics.root) && topicOrFilter.length > topics.root.length;
}
