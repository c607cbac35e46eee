import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptRecord, host, port } from '../../../test/harness/results.ts';
import type { HostResult, RunStats, ScanMeta } from '../../nmap/result.ts';
import type { HistoryEntry } from './history-file.ts';
import { diffTarget, parseSince } from './query.ts';
import { byAddress, hostDeltas, planHosts, runsNeeded } from './query-hosts.ts';
import { findJob } from './query-jobs.ts';
import { loadRuns, openStore, type LoadedRun } from './query-load.ts';

/** The pure queries over hand-made history; the CLI test runs them on real captures. */

function entry(job: string, at: number, up: string[], over: Partial<HistoryEntry> = {}) {
  return { job, attempt: 1, parent: null, at, up, down: [], ...over } satisfies HistoryEntry;
}

describe('diffTarget and parseSince', () => {
  it('tells a job id from an address, and no argument means every host', () => {
    expect(diffTarget('j-0a1b2c3d4e5f-1.2')).toEqual({ kind: 'job', id: 'j-0a1b2c3d4e5f-1.2' });
    expect(diffTarget('10.0.0.1')).toEqual({ kind: 'host', address: '10.0.0.1' });
    expect(diffTarget(undefined)).toEqual({ kind: 'all' });
  });

  it('reads 90s, 30m, 24h, 7d and refuses anything else with SCANMESH_BAD_CONFIG', () => {
    expect(['90s', '30m', '24h', '7d'].map(parseSince)).toEqual([
      90_000, 1_800_000, 86_400_000, 604_800_000,
    ]);
    for (const bad of ['', '24', 'h', '1.5h', '-1h', '0m', '2w', '1h30m']) {
      expect(() => parseSince(bad), bad).toThrow(
        expect.objectContaining({ code: 'SCANMESH_BAD_CONFIG' }),
      );
    }
  });
});

describe('findJob', () => {
  const line = 'j-aaaaaaaaaaaa-1';
  const history = [
    entry('j-bbbbbbbbbbbb-1', 1, ['10.0.0.1']),
    entry('j-bbbbbbbbbbbb-1', 2, ['10.0.0.1'], { attempt: 2 }),
    entry('j-cccccccccccc-1.1', 3, ['10.0.0.1'], { parent: 'j-cccccccccccc-1' }),
    entry('j-cccccccccccc-1.2', 4, ['10.0.0.2'], { parent: 'j-cccccccccccc-1' }),
    // A recurring line: run 1 plain (naming its line as parent), runs 2 and 10 split.
    entry(`${line}-r1`, 5, ['10.0.0.1'], { parent: line }),
    entry(`${line}-r2.1`, 6, ['10.0.0.1'], { parent: `${line}-r2` }),
    entry(`${line}-r10.1`, 7, ['10.0.0.1'], { parent: `${line}-r10` }),
    entry(`${line}-r10.2`, 8, ['10.0.0.2'], { parent: `${line}-r10` }),
    entry(`${line}-r2.2`, 9, ['10.0.0.2'], { parent: `${line}-r2` }),
  ];

  it('names the latest compared attempt of a job', () => {
    expect(findJob(history, 'j-bbbbbbbbbbbb-1')).toEqual([1]);
    expect(findJob(history, 'j-cccccccccccc-1.2')).toEqual([3]);
  });

  it('names every block of a split line', () => {
    expect(findJob(history, 'j-cccccccccccc-1')).toEqual([2, 3]);
  });

  it("names a recurring line's latest run (the highest number, not the last compared)", () => {
    expect(findJob(history, line)).toEqual([6, 7]);
    expect(findJob(history, `${line}-r2`)).toEqual([5, 8]);
    expect(findJob(history, `${line}-r1`)).toEqual([4]);
  });

  it('returns null for an id the history does not know', () => {
    expect(findJob(history, 'j-dddddddddddd-1')).toBeNull();
    expect(findJob(history, 'j-aaaaaaaaaaaa')).toBeNull();
  });
});

const STATS: RunStats = {
  end: 2,
  elapsedS: 1,
  exit: 'success',
  errorMessage: '',
  summary: '',
  hostsUp: 1,
  hostsDown: 0,
  hostsTotal: 1,
};

function meta(targets: string): ScanMeta {
  const scanInfo = [{ type: 'connect', protocol: 'tcp', numServices: 2, services: '22,80' }];
  return { nmapVersion: '7.93', args: `nmap -sT -p 22,80 ${targets}`, start: 1, scanInfo };
}

/** A loaded attempt, as loadRuns hands it over. */
function run(targets: string, hosts: HostResult[], stats: RunStats | null = STATS): LoadedRun {
  return {
    record: attemptRecord({ meta: meta(targets), stats }),
    hosts: new Map(hosts.map((h) => [h.address, h])),
  };
}

describe('planHosts and hostDeltas', () => {
  const a = '10.0.0.5';
  // Both scans probe 22 and 80; 80 is among nmap's "1 closed port" when it is not listed.
  const ssh = host(a, { ports: [port(22, 'open')], extraPorts: [{ state: 'closed', count: 1 }] });
  const web = host(a, { ports: [port(22, 'open'), port(80, 'open', { service: 'http' })] });

  function query(history: HistoryEntry[], runs: LoadedRun[], cutoff: number | null = null) {
    const plans = planHosts(history, a, cutoff);
    const loaded = new Map(runs.map((r, i) => [i, r]));
    return hostDeltas(history, plans, loaded, { target: { kind: 'all' }, cutoff, options: {} });
  }

  it('compares the latest result with the previous one', () => {
    const history = [entry('j-1', 10, [a]), entry('j-2', 20, [a]), entry('j-3', 30, [a])];
    const d = query(history, [run(a, [ssh]), run(a, [ssh]), run(a, [web])]);
    expect(d.old.map((r) => r.job)).toEqual(['j-2']);
    expect(d.new.map((r) => r.job)).toEqual(['j-3']);
    expect(d.hosts[0]?.changes.map((c) => [c.change, c.port, c.previousJob])).toEqual([
      ['port-opened', 80, 'j-2'],
    ]);
  });

  it('with a cutoff, compares with the latest result at or before it', () => {
    const history = [entry('j-1', 10, [a]), entry('j-2', 20, [a]), entry('j-3', 30, [a])];
    const runs = [run(a, [web]), run(a, [ssh]), run(a, [web])];
    expect(query(history, runs, 10).old.map((r) => r.job)).toEqual(['j-1']);
    expect(query(history, runs, 10).hosts[0]?.changes).toEqual([]);
    expect(query(history, runs, 29).old.map((r) => r.job)).toEqual(['j-2']);
    expect(query(history, runs, 29).hosts[0]?.changes).toHaveLength(1);
  });

  it('a later run that finished and covered the host but left it out: host-down', () => {
    const history = [entry('j-1', 10, [a]), entry('j-2', 20, [a]), entry('j-3', 30, [])];
    const d = query(history, [run(a, [ssh]), run(a, [web]), run('10.0.0.0/24', [])]);
    expect(d.old.map((r) => r.job)).toEqual(['j-2']);
    expect(d.new.map((r) => r.job)).toEqual(['j-3']);
    expect(d.hosts[0]?.changes.map((c) => [c.change, c.before, c.after])).toEqual([
      ['host-down', 'up', 'down (not listed)'],
    ]);
  });

  it('a run that was cut short, or did not cover the host, says nothing about it', () => {
    const history = [entry('j-1', 10, [a]), entry('j-2', 20, [a]), entry('j-3', 30, [])];
    for (const absent of [run(a, [], null), run('10.0.1.0/24', [])]) {
      const d = query(history, [run(a, [ssh]), run(a, [web]), absent]);
      expect(d.new.map((r) => r.job)).toEqual(['j-2']);
      expect(d.hosts[0]?.changes.map((c) => c.change)).toEqual(['port-opened']);
    }
  });

  it('with a cutoff: gone before it is no news; first seen after it is a baseline', () => {
    const gone = [entry('j-1', 10, [a]), entry('j-2', 20, [])];
    const goneRuns = [run(a, [ssh]), run(a, [])];
    expect(query(gone, goneRuns, 25).hosts[0]?.changes).toEqual([]);
    expect(query(gone, goneRuns, 15).hosts[0]?.changes.map((c) => c.change)).toEqual(['host-down']);
    const d = query([entry('j-1', 10, [a])], [run(a, [ssh])], 5);
    expect(d.old).toEqual([]);
    expect(d.hosts[0]?.baseline).toBe(true);
    // Seen and gone again after the cutoff: nothing to say.
    expect(query(gone, goneRuns, 5).hosts[0]?.changes).toEqual([]);
  });

  it('loads each listing with its host and the later runs for their record only', () => {
    const history = [
      entry('j-1', 10, [a]),
      entry('j-2', 20, [a, '10.0.0.6']),
      entry('j-3', 30, []),
    ];
    const needs = runsNeeded(history, planHosts(history, null, null));
    expect([...needs].map(([pos, set]) => [pos, [...set].sort()])).toEqual([
      [1, [a, '10.0.0.6']],
      [0, [a]],
      [2, []],
    ]);
  });

  it('orders hosts by address, IPv4 numerically', () => {
    expect(['10.0.0.10', '::1', '10.0.0.9', '9.1.1.1'].sort(byAddress)).toEqual([
      '9.1.1.1',
      '10.0.0.9',
      '10.0.0.10',
      '::1',
    ]);
  });
});

describe('query-load', () => {
  let dir = '';
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('a missing state dir and an empty history are SCANMESH_NOT_FOUND, with the hint', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-query-'));
    await expect(openStore(join(dir, 'nope'), 'try elsewhere')).rejects.toMatchObject({
      code: 'SCANMESH_NOT_FOUND',
      message: `no master state dir at ${join(dir, 'nope')}; try elsewhere`,
    });
    await expect(openStore(dir)).rejects.toMatchObject({ code: 'SCANMESH_NOT_FOUND' });
  });

  it('a history line whose results file is gone is SCANMESH_STORE_FAILED', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-query-'));
    await writeFile(
      join(dir, 'history.jsonl'),
      `${JSON.stringify(entry('j-1', 1, ['10.0.0.1']))}\n`,
    );
    const store = await openStore(dir);
    await expect(loadRuns(store, new Map([[0, new Set<string>()]]))).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
      message: expect.stringMatching(/names j-1~1, but .*results\/j-1~1\.json is missing/),
    });
  });
});
