import type { KeyObject } from 'node:crypto';
import { ScanmeshError } from '../errors.ts';
import { loadMasterPublicKey, MASTER_PUB_FILE } from './master-key.ts';

export interface PinnedKeyConfig {
  masterKey?: string;
  insecureUnsignedJobs: boolean;
}

/**
 * The worker's trust decision, made once at start. A worker runs nmap for whoever can publish on
 * its job topic, so it verifies jobs unless told, in so many words, not to: no key and no
 * `--insecure-unsigned-jobs` is a refusal to start, not a silent downgrade. Both at once is
 * refused too, because one of them is a mistake and we cannot tell which.
 */
export async function pinnedMasterKey(c: PinnedKeyConfig): Promise<KeyObject | null> {
  if (c.masterKey !== undefined && c.insecureUnsignedJobs) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      '--master-key and --insecure-unsigned-jobs contradict each other; give only one',
    );
  }
  if (c.masterKey !== undefined) return loadMasterPublicKey(c.masterKey);
  if (c.insecureUnsignedJobs) return null;
  throw new ScanmeshError(
    'SCANMESH_BAD_CONFIG',
    `--master-key FILE is required (SCANMESH_MASTER_KEY): copy the master's <state-dir>/${MASTER_PUB_FILE} here; ` +
      'or pass --insecure-unsigned-jobs to run unsigned jobs from anyone who can publish to this worker',
  );
}
