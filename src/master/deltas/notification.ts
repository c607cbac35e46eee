import type { Change } from '../../delta/index.ts';
import type { JobChanges } from './changes-file.ts';

/**
 * The JSON a webhook receives for one job's changes. `id` names the attempt and is sent again as
 * the `x-scanmesh-delivery` header: delivery is at least once, so a receiver de-duplicates by it.
 */
export interface ChangeNotification {
  id: string;
  job: string;
  attempt: number;
  parent: string | null;
  command: string;
  worker: string;
  /** When the master compared the attempt, ISO 8601. */
  at: string;
  summary: { hosts: number; changes: number; noisy: number; baselines: number };
  changes: Change[];
}

export function notificationOf(c: JobChanges): ChangeNotification {
  const changes = c.hosts.flatMap((h) => h.changes);
  return {
    id: `${c.job}~${c.attempt}`,
    job: c.job,
    attempt: c.attempt,
    parent: c.parent,
    command: c.command,
    worker: c.worker,
    at: new Date(c.at).toISOString(),
    summary: {
      hosts: c.hosts.length,
      changes: changes.length,
      noisy: changes.filter((x) => x.noisy).length,
      baselines: changes.filter((x) => x.change === 'baseline').length,
    },
    changes,
  };
}
