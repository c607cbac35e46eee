import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../clock.ts';
import type { ScanMeta } from '../../nmap/result.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { memoryLog, tempDir } from '../../../test/harness/in-process.ts';
import { attemptRecord, host, port } from '../../../test/harness/results.ts';
import type { MasterRecord } from '../core/types.ts';
import { resultPath } from '../result-files.ts';
import { MasterStore } from '../store.ts';
import {
  changesPath,
  readChanges,
  readUncomparedChanges,
  type JobChanges,
} from './changes-file.ts';
import { DeltaStage } from './delta-stage.ts';
import { historyPath, readHistory } from './history-file.ts';
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

  async function open(records: MasterRecord[] = [], path = dir.path) {
    const store = await MasterStore.open(path, false, (r) => records.push(r));
    const log = memoryLog('info');
    const stage = new DeltaStage({
      store,
      index: await HostIndex.load(path),
      clock: systemClock,
      logger: log.logger,
      compare: {},
      notify: async (c) => void notified.push(c),
      compared: (r) => void compared.push(`${r.job}#${r.attempt}`),
      retryMinMs: 10,
      retryMaxMs: 10,
    });
    // A batch may still be in flight: the stage stops before the store closes, as in master.ts.
    const close = async () => {
      await stage.stop();
      await store.close();
    };
    return { store, stage, log, close };
  }

  const kinds = (c: JobChanges | null) =>
    c?.hosts.flatMap((h) => h.changes.map((x) => `${x.host} ${x.port ?? '-'} ${x.change}`));

  it('files a baseline, then the changes against it, and a host-down for a host gone', async () => {
    const { store, stage, log, close } = await open();
    await store.finish(rec('j-a'), first);
    await stage.idle();
    await store.finish(rec('j-b'), second);
    await stage.idle();
    await close();

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
    await first1.close();
    // Cut the journal back to before j-b's `compared` record: the crash point.
    const journal = join(dir.path, 'journal.jsonl');
    const lines = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    await writeFile(journal, `${lines.slice(0, -1).join('\n')}\n`);

    notified.length = 0;
    const again = await open();
    expect([...again.store.uncompared.keys()]).toEqual(['j-b#1']);
    await again.stage.idle();
    await again.close();
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
    await third.close();
    expect(await readChanges(dir.path, 'j-c', 1)).toMatchObject({ hosts: [] });
  });

  it('compares only completed attempts, and survives compaction while one waits', async () => {
    const { store, close } = await open();
    await store.finish(rec('j-a'), first);
    await store.finish({ ...rec('j-x'), status: 'failed', code: 'SCANMESH_NMAP_FAILED' }, []);
    await store.compact([]);
    await close();
    const again = await open();
    expect([...again.store.uncompared.keys()]).toEqual(['j-a#1', 'j-x#1']);
    await again.stage.idle();
    await again.close();
    expect(await readChanges(dir.path, 'j-x', 1)).toBeNull();
    expect(kinds(await readChanges(dir.path, 'j-a', 1))).toHaveLength(2);
  });

  // 80 is open on .1 again, and .2 is back: the third attempt compares with the second.
  const third = [
    host('127.0.0.1', { ports: [port(80, 'open'), port(81, 'open')] }),
    host('127.0.0.2', { ports: [port(80, 'open')] }),
  ];
  const jobs = (): [AttemptRecord, typeof first][] => [
    [rec('j-a'), first],
    [{ ...rec('j-x'), status: 'failed', code: 'SCANMESH_NMAP_FAILED' }, []],
    [rec('j-b'), second],
    [rec('j-c'), third],
  ];
  const history = async (path = dir.path) => {
    const out = [];
    for await (const e of readHistory(path)) out.push([e.job, e.up, e.down]);
    return out;
  };
  const dropCompared = async (n: number) => {
    const journal = join(dir.path, 'journal.jsonl');
    const lines = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    expect(lines.slice(-n).every((l) => l.includes('"compared"'))).toBe(true);
    await writeFile(journal, `${lines.slice(0, -n).join('\n')}\n`);
  };

  it('compares a batch against its own earlier attempts, as one at a time would', async () => {
    // All filed before the stage runs, so it takes them as one batch.
    const batched = await open();
    for (const [r, hosts] of jobs()) await batched.store.finish(r, hosts);
    expect(batched.store.uncompared.size).toBe(4);
    await batched.stage.idle();
    await batched.close();
    const batchNotified = notified.map((n) => [n.job, kinds(n)]);
    const batchCompared = [...compared];

    notified.length = 0;
    compared.length = 0;
    const other = await tempDir('deltas-one');
    try {
      const single = await open([], other.path);
      for (const [r, hosts] of jobs()) {
        await single.store.finish(r, hosts);
        await single.stage.idle();
      }
      await single.close();
      for (const job of ['j-a', 'j-b', 'j-c']) {
        expect(kinds(await readChanges(dir.path, job, 1))).toEqual(
          kinds(await readChanges(other.path, job, 1)),
        );
      }
      expect(await history()).toEqual(await history(other.path));
    } finally {
      await other.remove();
    }
    expect(batchNotified).toEqual(notified.map((n) => [n.job, kinds(n)]));
    expect(batchCompared).toEqual(compared);
    expect(kinds(await readChanges(dir.path, 'j-c', 1))).toEqual([
      '127.0.0.1 80 port-opened',
      '127.0.0.2 - host-up',
    ]);
    expect(await history()).toEqual([
      ['j-a', ['127.0.0.1', '127.0.0.2'], []],
      ['j-b', ['127.0.0.1'], ['127.0.0.2']],
      ['j-c', ['127.0.0.1', '127.0.0.2'], []],
    ]);
  });

  it('compares again an attempt whose changes file a crash left torn', async () => {
    const first1 = await open();
    await first1.store.finish(rec('j-a'), first);
    await first1.stage.idle();
    await first1.store.finish(rec('j-b'), second);
    await first1.close();
    // The in-place write of j-b's changes file was cut short: no history line, no notification.
    await writeFile(changesPath(dir.path, 'j-b', 1), '{"job":"j-b","attempt":1,"par');
    expect(await readUncomparedChanges(dir.path, 'j-b', 1)).toBeNull();
    await expect(readChanges(dir.path, 'j-b', 1)).rejects.toThrow(SyntaxError);

    notified.length = 0;
    const again = await open();
    await again.stage.idle();
    await again.close();
    expect(kinds(await readChanges(dir.path, 'j-b', 1))).toEqual([
      '127.0.0.1 80 port-closed',
      '127.0.0.1 81 port-opened',
      '127.0.0.2 - host-down',
    ]);
    expect(notified.map((n) => n.job)).toEqual(['j-b']);
    expect(again.log.records.filter((r) => r.msg === 'change')).toHaveLength(3);
    expect((await history()).map(([job]) => job)).toEqual(['j-a', 'j-b']);
  });

  it('writes again a whole changes file a crash left without its history line, not logging it twice', async () => {
    const first1 = await open();
    await first1.store.finish(rec('j-a'), first);
    await first1.stage.idle();
    await first1.store.finish(rec('j-b'), second);
    await first1.close();
    // Whole, but maybe only in the page cache: a power cut could still tear it once history
    // names it. Written pretty here, so that writing it again shows.
    const kept = {
      job: 'j-b',
      attempt: 1,
      parent: null,
      command: 'c',
      worker: 'w',
      at: 1,
      hosts: [],
    };
    await writeFile(changesPath(dir.path, 'j-b', 1), JSON.stringify(kept, null, 2));

    notified.length = 0;
    const again = await open();
    await again.stage.idle();
    await again.close();
    expect(await readFile(changesPath(dir.path, 'j-b', 1), 'utf8')).toBe(JSON.stringify(kept));
    expect(
      again.log.records.filter((r) => r.msg === 'change' || r.msg.startsWith('baseline')),
    ).toEqual([]);
    expect((await history()).map(([job]) => job)).toEqual(['j-a', 'j-b']);
    expect(notified).toEqual([]);
  });

  it("after a crash past a batch's history lines, the same notifications go again", async () => {
    const first1 = await open();
    for (const [r, hosts] of jobs()) await first1.store.finish(r, hosts);
    await first1.stage.idle();
    await first1.close();
    const before = notified.map((n) => JSON.stringify(n));
    await dropCompared(4);
    const historyText = await readFile(historyPath(dir.path), 'utf8');

    notified.length = 0;
    compared.length = 0;
    const again = await open();
    await again.stage.idle();
    await again.close();
    // The same ids and bodies (receivers de-duplicate by id); nothing recomputed or appended.
    expect(notified.map((n) => JSON.stringify(n))).toEqual(before);
    expect(again.log.records.filter((r) => r.msg === 'change')).toEqual([]);
    expect(await readFile(historyPath(dir.path), 'utf8')).toBe(historyText);
    expect(compared).toEqual(['j-a#1', 'j-x#1', 'j-b#1', 'j-c#1']);

    // Once the `compared` records are durable, nothing is handed on again.
    notified.length = 0;
    const last = await open();
    await last.stage.idle();
    await last.close();
    expect(notified).toEqual([]);
  });

  it("a crash inside a batch's history append redoes the lines after the whole ones", async () => {
    const first1 = await open();
    for (const [r, hosts] of jobs()) await first1.store.finish(r, hosts);
    await first1.stage.idle();
    await first1.close();
    await dropCompared(4);
    // j-a's line whole, j-b's torn (no newline), j-c's not written.
    const text = await readFile(historyPath(dir.path), 'utf8');
    await writeFile(historyPath(dir.path), text.slice(0, text.indexOf('\n') + 21));

    const again = await open();
    await again.stage.idle();
    await again.close();
    expect(again.log.records.filter((r) => r.msg === 'change')).toEqual([]);
    expect(await history()).toEqual([
      ['j-a', ['127.0.0.1', '127.0.0.2'], []],
      ['j-b', ['127.0.0.1'], ['127.0.0.2']],
      ['j-c', ['127.0.0.1', '127.0.0.2'], []],
    ]);
    expect(kinds(await readChanges(dir.path, 'j-c', 1))).toEqual([
      '127.0.0.1 80 port-opened',
      '127.0.0.2 - host-up',
    ]);
  });

  it('commits the attempts before one that fails, then compares that one once it can', async () => {
    const { store, stage, log, close } = await open();
    const list = jobs();
    for (const [r, hosts] of list) await store.finish(r, hosts);
    await rm(resultPath(dir.path, 'j-c', 1));
    stage.kick();
    await vi.waitFor(() => expect(compared).toEqual(['j-a#1', 'j-x#1', 'j-b#1']));
    expect(log.records.some((r) => r.code === 'SCANMESH_DELTA_FAILED')).toBe(true);
    const [record, hosts] = list[3] as (typeof list)[number];
    await store.writeResult(record, hosts);
    await stage.idle();
    await close();
    expect(compared).toEqual(['j-a#1', 'j-x#1', 'j-b#1', 'j-c#1']);
    expect(kinds(await readChanges(dir.path, 'j-c', 1))).toEqual([
      '127.0.0.1 80 port-opened',
      '127.0.0.2 - host-up',
    ]);
    expect((await history()).map(([job]) => job)).toEqual(['j-a', 'j-b', 'j-c']);
  });
});
