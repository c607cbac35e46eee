import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { ensureDir, fsyncDir, writeFileAtomic } from '../storage/atomic-file.ts';
import { isWebhookUrl, urlRef } from './webhook-url.ts';

/**
 * On-disk shape of the webhook queue, one JSON file per notification:
 *   <state-dir>/webhooks/<id>.json          {v, id, seq, enqueuedAt, urls, body}: `urls` are the
 *                                            receivers still owed it; gone once none remain
 *   <state-dir>/dead/webhooks/<id>~<ref>.json  one receiver's refusal {v, id, url, status, reason,
 *                                            refusedAt, body}, kept for a person (`ref` = url_ref)
 * `seq` orders deliveries across restarts; `body` is stored as JSON, so a person can read it.
 */
export interface PendingRecord {
  id: string;
  seq: number;
  enqueuedAt: number;
  urls: string[];
  /** The body exactly as POSTed (JSON text). */
  payload: string;
}

const MAX_STEM = 200;

/** A file name for any id: percent-encoded so it can hold no `/`, `..` or leading dot. */
export function fileStem(id: string): string {
  if (id === '') throw new TypeError('a webhook notification id must not be empty');
  const stem = encodeURIComponent(id).replace(
    /[.!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (stem.length > MAX_STEM) throw new TypeError(`webhook notification id too long: ${id}`);
  return stem;
}

export function pendingPath(dir: string, id: string): string {
  return join(dir, `${fileStem(id)}.json`);
}

export function pendingText(r: PendingRecord): string {
  const head = { v: 1, id: r.id, seq: r.seq, enqueuedAt: r.enqueuedAt, urls: r.urls };
  // Splice the payload in rather than parse and re-stringify what the caller already encoded.
  return `${JSON.stringify(head).slice(0, -1)},"body":${r.payload}}\n`;
}

/** Durably forget a delivered notification: the removal must survive a crash like the write did. */
export async function removePending(path: string, dir: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncDir(dir);
}

/**
 * What a previous run left pending, oldest first. Temporary files of interrupted writes are
 * removed; a file that cannot be read is logged and left where it is for a person to look at.
 */
export async function loadPending(dir: string, logger: Logger): Promise<PendingRecord[]> {
  const out: PendingRecord[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name.startsWith('.') && name.endsWith('.tmp')) {
      await rm(path, { force: true });
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const record = parsePending(await readFile(path, 'utf8').catch(() => ''));
    if (record && isNamedFor(record.id, name)) out.push(record);
    else
      logger.error({ code: 'SCANMESH_STORE_FAILED', file: path }, 'unreadable webhook file left');
  }
  return out.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
}

/** A file renamed by hand (or holding another id) would be written twice under two names. */
function isNamedFor(id: string, name: string): boolean {
  try {
    return `${fileStem(id)}.json` === name;
  } catch {
    return false;
  }
}

function parsePending(text: string): PendingRecord | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const urls = v.urls;
    if (
      v.v !== 1 ||
      typeof v.id !== 'string' ||
      typeof v.seq !== 'number' ||
      typeof v.enqueuedAt !== 'number' ||
      !Array.isArray(urls) ||
      urls.length === 0 ||
      !urls.every((u) => typeof u === 'string' && isWebhookUrl(u)) ||
      !('body' in v)
    )
      return null;
    const payload = JSON.stringify(v.body);
    return { id: v.id, seq: v.seq, enqueuedAt: v.enqueuedAt, urls: urls as string[], payload };
  } catch {
    return null;
  }
}

export interface Refusal {
  id: string;
  url: string;
  status: number;
  reason: string;
  refusedAt: number;
  payload: string;
}

/**
 * Set one receiver's copy aside. The full URL is kept (a person may resend it); it already sits in
 * the pending file under the same state directory, so this adds no new exposure.
 */
export async function writeDead(deadDir: string, r: Refusal): Promise<string> {
  await ensureDir(deadDir);
  const path = join(deadDir, `${fileStem(r.id)}~${urlRef(r.url)}.json`);
  const head = {
    v: 1,
    id: r.id,
    url: r.url,
    status: r.status,
    reason: r.reason,
    refusedAt: r.refusedAt,
  };
  await writeFileAtomic(path, `${JSON.stringify(head).slice(0, -1)},"body":${r.payload}}\n`);
  return path;
}
