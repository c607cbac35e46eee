import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../clock.ts';
import type { ScanMeta } from '../../nmap/result.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { memoryLog, tempDir } from '../../../test/harness/in-process.ts';
import { attemptRecord, host, port } from '../../../test/harness/results.ts';
import type { MasterRecord } from '../core/types.ts';
import { MasterStore } from '../store.ts';
import { readChanges, type JobChanges } from './changes-file.ts';
import { DeltaStage } from './delta-stage.ts';
import { readHistory } from './history-file.ts';
import { HostIndex } from './host-index.ts';

const meta = (ports: string): ScanMeta => ({
  nmapVersion: '7.93',
  args: `nmap -sT -p ${ports} -oX - 127.0.0.1 127.0.0.2`,
  start: 1_700_000_000,
  scanInfo: [{ type: 'connect', protocol: 'tcp', numServices: 2, services: ports }],
});
const stats = {
  end: 1_700_000_001,
  elapsedS: 1,
  exit: 'success',
  errorMessage: '',
  summary: '',
  hostsUp: 2,
  hostsDown: 0,
  hostsTotal: 2,
};

function rec(job: string, attempt = 1): AttemptRecord {
  return attemptRecord({ job, attempt, meta: meta('80,81'), stats });
}

const first = [
  host('127.0.0.1', { ports: [port(80, 'open'), port(81, 'closed', { reason: 'conn-refused' })] }),
  host('127.0.0.2', { ports: [port(80, 'open')] }),
];
// 80 closes and 81 opens on .1; .2 is gone from a run that finished and covered it.
const second = [
  host('127.0.0.1', { ports: [port(80, 'closed', { reason: 'conn-refused' }), port(81, 'open')] }),
];

describe('the delta stage', () => {
  let dir: { path: string; remove(): Promise<void> };
  const notified: JobChanges[] = [];
  const compared: string[] = [];

  beforeEach(async () => {
    dir = await tempDir('deltas');
    notified.length = 0;
    compared.length = 0;
  });
  afterEach(() => dir.remove());

  async function open(records: MasterRecord[] = []) {
    const store = await MasterStore.open(dir.path, false, (r) => records.push(r));
    const log = memoryLog('info');
    const stage = new DeltaStage({
      store,
      index: await HostIndex.load(dir.path),
      clock: systemClock,
      logger: log.logger,
      compare: {},
      notify: async (c) => void notified.push(c),
      compared: (r) => void compared.push(`${r.job}#${r.attempt}`),
      retryMinMs: 10,
      retryMaxMs: 10,
    });
    return { store, stage, log };
  }

  const kinds = (c: JobChanges | null) =>
    c?.hosts.flatMap((h) => h.changes.map((x) => `${x.host} ${x.port ?? '-'} ${x.change}`));

  it('files a baseline, then the changes against it, and a host-down for a host gone', async () => {
    const { store, stage, log } = await open();
    await store.finish(rec('j-a'), first);
    await stage.idle();
    await store.finish(rec('j-b'), second);
    await stage.idle();
    await store.close();

    expect(kinds(await readChanges(dir.path, 'j-a', 1))).toEqual([
      '127.0.0.1 - baseline',
      '127.0.0.2 - baseline',
    ]);
    const b = await readChanges(dir.path, 'j-b', 1);
    expect(kinds(b)).toEqual([
      '127.0.0.1 80 port-closed',
      '127.0.0.1 81 port-opened',
      '127.0.0.2 - host-down',
    ]);
    expect(b?.hosts[0]?.changes[0]).toMatchObject({ previousJob: 'j-a', job: 'j-b' });
    expect(notified.map((n) => n.job)).toEqual(['j-a', 'j-b']);
    const history = [];
    for await (const e of readHistory(dir.path)) history.push([e.job, e.up, e.down]);
    expect(history).toEqual([
      ['j-a', ['127.0.0.1', '127.0.0.2'], []],
      ['j-b', ['127.0.0.1'], ['127.0.0.2']],
    ]);
    expect(log.records.filter((r) => r.msg === 'change').map((r) => r.change)).toEqual([
      'port-closed',
      'port-opened',
      'host-down',
    ]);
    expect(store.uncompared.size).toBe(0);
    expect(compared).toEqual(['j-a#1', 'j-b#1']);
  });

  it('a restart after the history line but before `compared` neither repeats nor self-compares', async () => {
    const first1 = await open();
    await first1.store.finish(rec('j-a'), first);
    await first1.stage.idle();
    await first1.store.finish(rec('j-b'), second);
    await first1.stage.idle();
    await first1.store.close();
    // Cut the journal back to before j-b's `compared` record: the crash point.
    const journal = join(dir.path, 'journal.jsonl');
    const lines = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(journal, `${lines.slice(0, -1).join('\n')}\n`);

    notified.length = 0;
    const again = await open();
    expect([...again.store.uncompared.keys()]).toEqual(['j-b#1']);
    await again.stage.idle();
    await again.store.close();
    expect(kinds(await readChanges(dir.path, 'j-b', 1))).toEqual([
      '127.0.0.1 80 port-closed',
      '127.0.0.1 81 port-opened',
      '127.0.0.2 - host-down',
    ]);
    // Handed on again (at least once), and logged once: the changes were not recomputed.
    expect(notified.map((n) => n.job)).toEqual(['j-b']);
    expect(again.log.records.filter((r) => r.msg === 'change')).toEqual([]);
    const jobs = [];
    for await (const e of readHistory(dir.path)) jobs.push(e.job);
    expect(jobs).toEqual(['j-a', 'j-b']);

    // A third run compares with j-b, not with j-a.
    const third = await open();
    await third.store.finish(rec('j-c'), second);
    await third.stage.idle();
    await third.store.close();
    expect(await readChanges(dir.path, 'j-c', 1)).toMatchObject({ hosts: [] });
  });

  it('compares only completed attempts, and survives compaction while one waits', async () => {
    const { store } = await open();
    await store.finish(rec('j-a'), first);
    await store.finish({ ...rec('j-x'), status: 'failed', code: 'SCANMESH_NMAP_FAILED' }, []);
    await store.compact([]);
    await store.close();
    const again = await open();
    expect([...again.store.uncompared.keys()]).toEqual(['j-a#1', 'j-x#1']);
    await again.stage.idle();
    await again.store.close();
    expect(await readChanges(dir.path, 'j-x', 1)).toBeNull();
    expect(kinds(await readChanges(dir.path, 'j-a', 1))).toHaveLength(2);
  });
});
