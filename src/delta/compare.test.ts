import { describe, expect, it } from 'vitest';
import type { HostResult, ScanMeta } from '../nmap/result.ts';
import type { Change, ScanSide } from './changes.ts';
import { compareAbsentHost, compareHost } from './compare.ts';
import { host, meta, port, side, stats } from './testkit.ts';

const M = meta({ tcp: '1-1000' }, 'nmap -sS -p 1-1000 10.0.0.1');
const SV = meta({ tcp: '1-1000' }, 'nmap -sS -sV -p 1-1000 10.0.0.1');

function rest(h: Partial<HostResult>, listed: number): Partial<HostResult> {
  return { extraPorts: [{ state: 'closed', count: 1000 - listed }], ...h };
}

function up(ports = [port(22, 'open')], over: Partial<HostResult> = {}): HostResult {
  return host({ ports, ...rest(over, ports.length) });
}

function pair(a: HostResult, b: HostResult, ma: ScanMeta | null = M, mb: ScanMeta | null = M) {
  return [side(a, ma, 'j-old'), side(b, mb, 'j-new')] as const;
}

/** The changes as compact tuples, for exact assertions. */
function summary(changes: Change[]): [string, number | null, string, string, boolean][] {
  return changes.map((c) => [c.change, c.port, c.before, c.after, c.noisy]);
}

describe('compareHost: baseline', () => {
  it('reports a first result as one baseline entry, never as opened ports', () => {
    const ports = [port(22, 'open', { service: 'ssh' }), port(80, 'open', { service: 'http' })];
    const delta = compareHost(null, side(up(ports), M, 'j-1'));
    expect(delta).toEqual({
      host: '10.0.0.1',
      baseline: true,
      noisy: false,
      noise: [],
      changes: [
        {
          host: '10.0.0.1',
          port: null,
          protocol: null,
          change: 'baseline',
          before: '',
          after: 'up; open: 22/tcp ssh, 80/tcp http',
          job: 'j-1',
          previousJob: '',
          noisy: false,
        },
      ],
    });
  });

  it('reports nothing for a first result that is down', () => {
    const delta = compareHost(null, side(host({ state: 'down', reason: 'no-response' }), M, 'j'));
    expect(delta.baseline).toBe(true);
    expect(delta.changes).toEqual([]);
  });
});

describe('compareHost: host up and down', () => {
  it('reports host-down, and no port changes with it', () => {
    const [a, b] = pair(up(), host({ state: 'down', reason: 'no-response', ports: [] }));
    expect(summary(compareHost(a, b).changes)).toEqual([
      ['host-down', null, 'up', 'down (no-response)', false],
    ]);
  });

  it('reports a -Pn host that answered nothing as down', () => {
    const silent = host({
      reason: 'user-set',
      latencyMs: null,
      ports: [port(22, 'filtered')],
      extraPorts: [{ state: 'filtered', count: 999 }],
    });
    const [a, b] = pair(up(), silent);
    expect(summary(compareHost(a, b).changes)).toEqual([
      ['host-down', null, 'up', 'down (no answer to any probe under -Pn)', false],
    ]);
  });

  it('reports host-up with what is open now', () => {
    const [a, b] = pair(host({ state: 'down', reason: 'no-response' }), up());
    const delta = compareHost(a, b);
    expect(summary(delta.changes)).toEqual([
      ['host-up', null, 'down (no-response)', 'up; open: 22/tcp', false],
    ]);
    expect(delta.changes[0]?.previousJob).toBe('j-old');
  });

  it('compares nothing when either side has no verdict', () => {
    const [a, b] = pair(up(), host({ state: 'unknown', reason: 'user-set' }));
    const delta = compareHost(a, b);
    expect(delta.changes).toEqual([]);
    expect(delta.noisy).toBe(true);
  });
});

describe('compareHost: port states over what both scans probed', () => {
  it('reports opened, closed and other state changes with ndiff-like rows', () => {
    const a = up([port(22, 'open'), port(80, 'closed'), port(443, 'open'), port(800, 'closed')]);
    const b = up([
      port(22, 'closed'),
      port(80, 'open'),
      port(443, 'filtered'),
      port(800, 'filtered'),
    ]);
    expect(summary(compareHost(...pair(a, b)).changes)).toEqual([
      ['port-closed', 22, 'open', 'closed', false],
      ['port-opened', 80, 'closed', 'open', false],
      ['port-state', 443, 'open', 'filtered', true],
      ['port-state', 800, 'closed', 'filtered', true],
    ]);
  });

  it('uses the extraports state for ports a scan did not list', () => {
    // Old: 22 listed open, 80 under "999 closed". New: 80 listed open, 22 under "999 closed".
    const [a, b] = pair(up([port(22, 'open')]), up([port(80, 'open')]));
    expect(summary(compareHost(a, b).changes)).toEqual([
      ['port-closed', 22, 'open', 'closed', false],
      ['port-opened', 80, 'closed', 'open', false],
    ]);
  });

  it("ignores ports outside either scan's range", () => {
    const ma = meta({ tcp: '1-100' });
    const mb = meta({ tcp: '50-200' });
    const a = host({
      ports: [port(10, 'open'), port(60, 'open')],
      extraPorts: [{ state: 'closed', count: 98 }],
    });
    const b = host({
      ports: [port(70, 'open'), port(150, 'open')],
      extraPorts: [{ state: 'closed', count: 149 }],
    });
    expect(summary(compareHost(...pair(a, b, ma, mb)).changes)).toEqual([
      ['port-closed', 60, 'open', 'closed', false],
      ['port-opened', 70, 'closed', 'open', false],
    ]);
  });

  it('separates protocols: udp/53 and tcp/53 are different ports', () => {
    const m = meta({ tcp: '53', udp: '53' });
    const a = host({ ports: [port(53, 'open'), port(53, 'open', { protocol: 'udp' })] });
    const b = host({
      ports: [port(53, 'open'), port(53, 'closed', { protocol: 'udp', reason: 'port-unreach' })],
    });
    const changes = compareHost(...pair(a, b, m, m)).changes;
    expect(changes.map((c) => [c.protocol, c.port, c.change])).toEqual([
      ['udp', 53, 'port-closed'],
    ]);
  });

  it('reports a change against several possible extraports states only when none matches', () => {
    const twoStates = (listed: HostResult['ports']): HostResult =>
      host({
        ports: listed,
        extraPorts: [
          { state: 'closed', count: 500 },
          { state: 'filtered', count: 500 - listed.length },
        ],
      });
    // 22: open → "closed or filtered": it is no longer open, though we cannot say which.
    // 80: closed → "closed or filtered": may not have changed at all.
    const a = twoStates([port(22, 'open'), port(80, 'closed')]);
    const b = twoStates([]);
    expect(summary(compareHost(...pair(a, b)).changes)).toEqual([
      ['port-state', 22, 'open', 'closed or filtered', true],
    ]);
  });

  it('compares no unlisted port of a host nmap gave up on, and marks the delta', () => {
    const timedOut = host({ ports: [] });
    const delta = compareHost(...pair(up([port(22, 'open')]), timedOut));
    expect(delta.changes).toEqual([]);
    expect(delta.noisy).toBe(true);
    expect(delta.noise).toEqual([
      'new scan: nmap gave up on this host before it finished (host timeout): 1000 of 1000 probed ports have no result',
    ]);
  });

  it('compares only listed ports without a header, and nothing unlisted', () => {
    const a = host({ ports: [port(22, 'open'), port(80, 'open')], extraPorts: [] });
    const b = host({ ports: [port(22, 'closed')], extraPorts: [] });
    expect(summary(compareHost(...pair(a, b, null, null)).changes)).toEqual([
      ['port-closed', 22, 'open', 'closed', false],
    ]);
  });
});

describe('compareHost: services', () => {
  const ssh = (over: Partial<Parameters<typeof port>[2]> = {}) =>
    port(22, 'open', {
      service: 'ssh',
      product: 'OpenSSH',
      version: '8.9p1',
      extrainfo: 'protocol 2.0',
      ...over,
    });

  it.each([
    ['service-changed', { service: 'ftp', product: 'vsftpd', version: '3.0.3', extrainfo: '' }],
    ['product-changed', { product: 'Dropbear sshd', version: '2022.83', extrainfo: '' }],
    ['version-changed', { version: '9.6p1' }],
    ['extrainfo-changed', { extrainfo: 'Ubuntu Linux; protocol 2.0' }],
  ] as const)('names the most significant field: %s', (kind, after) => {
    const changes = compareHost(...pair(up([ssh()]), up([ssh(after)]), SV, SV)).changes;
    expect(changes.map((c) => c.change)).toEqual([kind]);
    expect(changes[0]?.before).toBe('open ssh OpenSSH 8.9p1 (protocol 2.0)');
  });

  it('reports the whole rows for a version upgrade', () => {
    const changes = compareHost(
      ...pair(up([ssh()]), up([ssh({ version: '9.6p1' })]), SV, SV),
    ).changes;
    expect(summary(changes)).toEqual([
      [
        'version-changed',
        22,
        'open ssh OpenSSH 8.9p1 (protocol 2.0)',
        'open ssh OpenSSH 9.6p1 (protocol 2.0)',
        false,
      ],
    ]);
  });

  it('does not compare services unless both scans ran version detection', () => {
    const table = port(22, 'open', { service: 'ssh' });
    expect(compareHost(...pair(up([table]), up([ssh()]), M, SV)).changes).toEqual([]);
    expect(compareHost(...pair(up([ssh()]), up([table]), SV, M)).changes).toEqual([]);
    const sSV = meta({ tcp: '1-1000' }, 'nmap -sSV 10.0.0.1');
    const A = meta({ tcp: '1-1000' }, 'nmap -A 10.0.0.1');
    expect(compareHost(...pair(up([table]), up([ssh()]), sSV, A)).changes).toHaveLength(1);
  });

  it('reports a state change alone when a port also changed service', () => {
    const changes = compareHost(
      ...pair(up([ssh()]), up([port(22, 'closed', { service: 'ssh' })]), SV, SV),
    ).changes;
    expect(summary(changes)).toEqual([
      ['port-closed', 22, 'open ssh OpenSSH 8.9p1 (protocol 2.0)', 'closed ssh', false],
    ]);
  });
});

describe('compareHost: OS and scripts', () => {
  it('reports a changed best OS guess, not a missing one', () => {
    const linux = up(undefined, {
      os: [
        { name: 'Linux 5.0 - 5.14', accuracy: 98 },
        { name: 'Linux 4.15', accuracy: 90 },
      ],
    });
    const bsd = up(undefined, { os: [{ name: 'FreeBSD 13.1', accuracy: 95 }] });
    expect(summary(compareHost(...pair(linux, bsd)).changes)).toEqual([
      ['os-changed', null, 'Linux 5.0 - 5.14', 'FreeBSD 13.1', false],
    ]);
    expect(compareHost(...pair(linux, up())).changes).toEqual([]);
  });

  const SC = meta({ tcp: '1-1000' }, 'nmap -sS --script http-title 10.0.0.1');
  const titled = (title: string): HostResult =>
    up([port(80, 'open', { scripts: [{ id: 'http-title', output: title }] })], {
      scripts: [{ id: 'clock-skew', output: title === 'A' ? '0s' : '2s' }],
    });

  it('compares script output only when asked', () => {
    expect(compareHost(...pair(titled('A'), titled('B'), SC, SC)).changes).toEqual([]);
    const changes = compareHost(...pair(titled('A'), titled('B'), SC, SC), {
      scripts: true,
    }).changes;
    expect(summary(changes)).toEqual([
      ['script-changed', 80, 'http-title: A', 'http-title: B', false],
      ['script-changed', null, 'clock-skew: 0s', 'clock-skew: 2s', false],
    ]);
  });

  it('treats a script that vanished as changed only under the same script selection', () => {
    const none = up([port(80, 'open')]);
    const same = compareHost(...pair(titled('A'), none, SC, SC), { scripts: true }).changes;
    expect(same.map((c) => [c.port, c.before, c.after])).toEqual([
      [80, 'http-title: A', 'http-title: (none)'],
      [null, 'clock-skew: 0s', 'clock-skew: (none)'],
    ]);
    expect(compareHost(...pair(titled('A'), none, SC, M), { scripts: true }).changes).toEqual([]);
  });
});

describe('compareHost: noise and jobs', () => {
  it('marks every change of a host whose scan did not finish', () => {
    const a: ScanSide = side(up([port(22, 'open')]), M, 'j-old');
    const b: ScanSide = { ...side(up([port(80, 'open')]), M, 'j-new'), stats: null };
    const delta = compareHost(a, b);
    expect(delta.changes.map((c) => [c.change, c.noisy])).toEqual([
      ['port-closed', true],
      ['port-opened', true],
    ]);
    expect(delta.noise).toEqual([
      "new scan: the run ended without nmap's final statistics (cut short)",
    ]);
  });

  it('marks only the changes that rest on silence in an otherwise clean scan', () => {
    const a = up([port(22, 'open'), port(80, 'open')]);
    const b = up([port(22, 'filtered'), port(80, 'closed'), port(443, 'open')]);
    const delta = compareHost(...pair(a, b));
    expect(delta.changes.map((c) => [c.port, c.noisy])).toEqual([
      [22, true],
      [80, false],
      [443, false],
    ]);
    expect(delta.noisy).toBe(true);
    expect(delta.noise).toEqual([]);
  });

  it('carries both jobs on every change and never repeats (port, protocol, kind)', () => {
    const a = up([port(22, 'open'), port(80, 'closed'), port(53, 'open', { protocol: 'udp' })], {
      os: [{ name: 'Linux', accuracy: 90 }],
    });
    const b = up(
      [port(22, 'closed'), port(80, 'open'), port(53, 'filtered', { protocol: 'udp' })],
      {
        os: [{ name: 'FreeBSD', accuracy: 90 }],
      },
    );
    const m = meta({ tcp: '1-1000', udp: '53' });
    const changes = compareHost(side(a, m, 'j-1'), side(b, m, 'j-2')).changes;
    expect(changes.every((c) => c.job === 'j-2' && c.previousJob === 'j-1')).toBe(true);
    const tags = changes.map((c) => `${c.host} ${c.port} ${c.protocol} ${c.change}`);
    expect(new Set(tags).size).toBe(tags.length);
    expect(changes).toHaveLength(4);
  });
});

describe('compareAbsentHost', () => {
  const prev = side(up(), meta({ tcp: '1-1000' }, 'nmap -sS 10.0.0.0/24'), 'j-1');
  const run = (args: string, over: Partial<Parameters<typeof stats>[0]> | null = {}) => ({
    meta: meta({ tcp: '1-1000' }, args),
    job: 'j-2',
    stats: over === null ? null : stats(over),
  });

  it('is host-down when the finished run covered the host and did not list it', () => {
    const delta = compareAbsentHost(prev, run('nmap -sS 10.0.0.0/24'));
    expect(delta && summary(delta.changes)).toEqual([
      ['host-down', null, 'up', 'down (not listed)', false],
    ]);
  });

  it('says nothing when the run did not cover the host, did not finish, or cannot be read', () => {
    expect(compareAbsentHost(prev, run('nmap -sS 10.0.1.0/24'))).toBeNull();
    expect(compareAbsentHost(prev, run('nmap -sS 10.0.0.0/24', null))).toBeNull();
    expect(compareAbsentHost(prev, run('nmap -sS 10.0.0.0/24', { exit: 'error' }))).toBeNull();
    expect(compareAbsentHost(prev, run('nmap -sS -iL list.txt'))).toBeNull();
  });
});
