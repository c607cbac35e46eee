import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { attemptRecord } from '../../../test/harness/results.ts';
import {
  compareAbsentHost,
  compareHost,
  type HostDelta,
  type ScanSide,
} from '../../delta/index.ts';
import { rawXml } from '../../delta/fixture-pairs.ts';
import { parseNmapXml } from '../../nmap/xml-stream.ts';
import { resultPath, type StoredResult } from '../result-files.ts';
import { changesDir, writeChangesFiles } from './changes-file.ts';
import { HistoryAppender } from './history-file.ts';

/**
 * A master state dir for `scanmesh diff` tests, in the format the master writes (result-files.ts,
 * changes-file.ts, history-file.ts), filled from the real nmap captures in test/fixtures/delta.
 * The changes files are what the master records: each listed host against its last stored
 * result, and hosts left out of a run that finished and covered them as gone.
 */
export interface StoreRun {
  job: string;
  attempt?: number;
  parent?: string | null;
  /** How long before `now` the master compared it, in ms. */
  ago: number;
  /** A capture in test/fixtures/delta. */
  xml: string;
  /** Address swaps applied to the XML, so that one capture can stand for another host. */
  rename?: Record<string, string>;
}

export async function writeStore(
  dir: string,
  runs: readonly StoreRun[],
  now = Date.now(),
): Promise<void> {
  const last = new Map<string, ScanSide>();
  for (const [k, run] of runs.entries()) {
    const attempt = run.attempt ?? 1;
    const at = now - run.ago;
    let xml = rawXml(run.xml);
    for (const [from, to] of Object.entries(run.rename ?? {})) xml = xml.replaceAll(from, to);
    const scan = parseNmapXml(xml);
    const record = attemptRecord({
      job: run.job,
      jobSeq: k + 1,
      attempt,
      command: scan.meta?.args.replace(/^nmap /, '') ?? '',
      meta: scan.meta,
      stats: scan.stats,
      startedAt: at - 2_000,
      finishedAt: at - 1_000,
      hostCount: scan.hosts.length,
      timestampNs: `${at - 1_000}000001`,
    });
    const stored: StoredResult = { record, hosts: scan.hosts };
    const path = resultPath(dir, run.job, attempt);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(stored));

    const deltas: HostDelta[] = [];
    const runSide = { meta: scan.meta, stats: scan.stats, job: run.job };
    for (const host of scan.hosts) {
      const side = { ...runSide, host };
      deltas.push(compareHost(last.get(host.address) ?? null, side));
      last.set(host.address, side);
    }
    for (const [address, prev] of last) {
      if (scan.hosts.some((h) => h.address === address)) continue;
      const gone = compareAbsentHost(prev, runSide);
      if (gone !== null) deltas.push(gone);
    }
    const parent = run.parent ?? null;
    await mkdir(changesDir(dir), { recursive: true });
    await writeChangesFiles(dir, [
      {
        job: run.job,
        attempt,
        parent,
        command: record.command,
        worker: record.worker,
        at,
        hosts: deltas.filter((d) => d.changes.length > 0 || d.noisy),
      },
    ]);
    const listed = (state: string) =>
      scan.hosts.filter((h) => h.state === state).map((h) => h.address);
    await new HistoryAppender(dir).append([
      {
        job: run.job,
        attempt,
        parent,
        at,
        up: listed('up'),
        down: listed('down'),
      },
    ]);
  }
}

const HOUR = 3_600_000;

/** Job ids as commands-file.ts makes them (`j-<hash>-<n>`), named here for what they are. */
export const JOBS = {
  /** A recurring line: runs `<line>-r<k>`. */
  line: 'j-5ca1ab1e0001-1',
  first: 'j-e0e0e0e0e0e0-1',
  sweepA: 'j-5a5a5a5a5a5a-1',
  sweepB: 'j-5b5b5b5b5b5b-1',
  /** A split line: blocks `<parent>.<b>`. */
  split: 'j-d1d1d1d1d1d1-1',
  quietA: 'j-9a9a9a9a9a9a-1',
  quietB: 'j-9b9b9b9b9b9b-1',
} as const;

/**
 * One store with every case `scanmesh diff` handles:
 * - 127.0.0.1, by the recurring line: 3 days ago, 2 h ago (the same ports), 1 h ago (31102
 *   closed, 31103 opened);
 * - 127.0.0.3: a plain job 3 days ago, then block 1 of the split line 10 h ago (other ports);
 * - 127.0.0.4: first seen 10 h ago, in block 2 (a baseline);
 * - 10.200.61.2 and 127.0.0.2: a ping sweep 2 days ago, another 30 min ago (its attempt 2)
 *   without 10.200.61.2 (gone);
 * - 10.200.61.9: a port gone silent 40 min ago (noisy).
 */
export function scenario(): StoreRun[] {
  const sweep = { '127.0.0.1': '127.0.0.2' };
  return [
    { job: `${JOBS.line}-r1`, parent: JOBS.line, ago: 72 * HOUR, xml: 'open-close-1.xml' },
    {
      job: JOBS.first,
      ago: 71 * HOUR,
      xml: 'ranges-1.xml',
      rename: { '127.0.0.1': '127.0.0.3' },
    },
    { job: JOBS.sweepA, ago: 48 * HOUR, xml: 'gone-sn-1.xml', rename: sweep },
    { job: JOBS.quietA, ago: 47 * HOUR, xml: 'silence-1.xml', rename: quiet() },
    {
      job: `${JOBS.split}.1`,
      parent: JOBS.split,
      ago: 10 * HOUR,
      xml: 'ranges-2.xml',
      rename: { '127.0.0.1': '127.0.0.3' },
    },
    {
      job: `${JOBS.split}.2`,
      parent: JOBS.split,
      ago: 10 * HOUR - 60_000,
      xml: 'service-1.xml',
      rename: { '127.0.0.1': '127.0.0.4' },
    },
    { job: `${JOBS.line}-r2`, parent: JOBS.line, ago: 2 * HOUR, xml: 'open-close-1.xml' },
    { job: `${JOBS.line}-r3`, parent: JOBS.line, ago: 1 * HOUR, xml: 'open-close-2.xml' },
    { job: JOBS.quietB, ago: 40 * 60_000, xml: 'silence-2.xml', rename: quiet() },
    { job: JOBS.sweepB, attempt: 2, ago: 30 * 60_000, xml: 'gone-sn-2.xml', rename: sweep },
  ];
}

/** The silence captures are of 10.200.61.2, which the sweeps already stand for. */
function quiet(): Record<string, string> {
  return { '10.200.61.2': '10.200.61.9' };
}
