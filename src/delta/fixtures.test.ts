import { describe, expect, it } from 'vitest';
import { portChangePoints } from '../storage/port-change-points.ts';
import type { Change } from './changes.ts';
import { loadPair, PAIRS, type PairName } from './fixture-pairs.ts';
import { compareScans, type ScanDelta } from './scans.ts';

/** Real scans of listeners opened and closed between two nmap runs (see capture.sh). */

type Row = [
  host: string,
  port: string,
  change: string,
  before: string,
  after: string,
  noisy: boolean,
];

function rows(delta: ScanDelta): Row[] {
  return delta.hosts.flatMap((h) =>
    h.changes.map((c: Change): Row => [
      c.host,
      c.port === null ? '-' : `${c.port}/${c.protocol}`,
      c.change,
      c.before,
      c.after,
      c.noisy,
    ]),
  );
}

function diff(name: PairName, reverse = false): ScanDelta {
  const [a, b] = loadPair(name);
  return reverse ? compareScans(b, a) : compareScans(a, b);
}

describe('delta of real nmap XML pairs', () => {
  it('a port closed and a port opened (-sT -p 31100-31104)', () => {
    const delta = diff('open-close');
    expect(rows(delta)).toEqual([
      ['127.0.0.1', '31102/tcp', 'port-closed', 'open', 'closed', false],
      ['127.0.0.1', '31103/tcp', 'port-opened', 'closed', 'open', false],
    ]);
    const change = delta.hosts[0]?.changes[0];
    expect(change?.job).toBe('open-close-2.xml');
    expect(change?.previousJob).toBe('open-close-1.xml');
    // And the same pair read the other way round.
    expect(rows(diff('open-close', true)).map((r) => [r[1], r[2]])).toEqual([
      ['31102/tcp', 'port-opened'],
      ['31103/tcp', 'port-closed'],
    ]);
  });

  it('services swapped under -sV: service, version and product changes', () => {
    expect(rows(diff('service'))).toEqual([
      [
        '127.0.0.1',
        '31110/tcp',
        'service-changed',
        'open http SimpleHTTPServer 0.6 (Python 3.11.7)',
        'open ftp vsftpd 3.0.3',
        false,
      ],
      [
        '127.0.0.1',
        '31111/tcp',
        'version-changed',
        'open ssh OpenSSH 8.9p1 (protocol 2.0)',
        'open ssh OpenSSH 9.6p1 (protocol 2.0)',
        false,
      ],
      [
        '127.0.0.1',
        '31112/tcp',
        'product-changed',
        'open ftp ProFTPD 1.3.5',
        'open ftp vsftpd 3.0.3',
        false,
      ],
    ]);
  });

  it('different port ranges: ports only in one range are neither opened nor closed', () => {
    // 31120-31160 then 31140-31180: 31125 (open, first range only) and 31175 (open, second
    // range only) are not changes; 31150 and 31155 changed inside the common range, where the
    // unlisted side's state comes from <extraports state="closed" count="38">.
    expect(rows(diff('ranges'))).toEqual([
      ['127.0.0.1', '31150/tcp', 'port-closed', 'open', 'closed', false],
      ['127.0.0.1', '31155/tcp', 'port-opened', 'closed', 'open', false],
    ]);
    expect(rows(diff('ranges', true)).map((r) => [r[1], r[2]])).toEqual([
      ['31150/tcp', 'port-opened'],
      ['31155/tcp', 'port-closed'],
    ]);
  });

  it('a port gone silent (packets dropped) is a change marked noisy', () => {
    expect(rows(diff('silence'))).toEqual([
      ['10.200.61.2', '31180/tcp', 'port-state', 'open', 'filtered', true],
    ]);
  });

  it('a host nmap gave up on (--host-timeout) yields no port changes, only a noisy delta', () => {
    const delta = diff('timeout');
    expect(rows(delta)).toEqual([]);
    expect(delta.hosts.map((h) => [h.host, h.noisy, h.noise])).toEqual([
      [
        '10.200.61.2',
        true,
        [
          'new scan: nmap gave up on this host before it finished (host timeout): 2 of 2 probed ports have no result',
        ],
      ],
    ]);
  });

  it('a host gone from a ping scan is host-down; back again, host-up', () => {
    const delta = diff('gone-sn');
    expect(rows(delta)).toEqual([
      ['10.200.61.2', '-', 'host-down', 'up', 'down (not listed)', false],
    ]);
    // 127.0.0.1 was compared too, and had nothing to report.
    expect(delta.hosts.map((h) => [h.host, h.changes.length])).toEqual([
      ['127.0.0.1', 0],
      ['10.200.61.2', 1],
    ]);
    expect(rows(diff('gone-sn', true))).toEqual([
      ['10.200.61.2', '-', 'host-up', 'down (not listed)', 'up; no open ports', false],
    ]);
  });

  it('a host gone under -Pn (every port silent) is host-down, not two port changes', () => {
    expect(rows(diff('gone-pn'))).toEqual([
      ['10.200.61.2', '-', 'host-down', 'up', 'down (no answer to any probe under -Pn)', false],
    ]);
    expect(rows(diff('gone-pn', true))).toEqual([
      [
        '10.200.61.2',
        '-',
        'host-up',
        'down (no answer to any probe under -Pn)',
        'up; open: 31180/tcp',
        false,
      ],
    ]);
  });

  it.each(PAIRS)('%s: every port_change point of the new job has its own tags', (name) => {
    for (const reverse of [false, true]) {
      const changes = diff(name, reverse).hosts.flatMap((h) => h.changes);
      const points = portChangePoints({ timestampNs: '1795268898000000001' }, changes);
      const tags = points.map((p) => JSON.stringify(p.tags));
      expect(new Set(tags).size).toBe(tags.length);
    }
  });

  it('a scan compared with itself has no changes', () => {
    for (const name of PAIRS) {
      const [a, b] = loadPair(name);
      expect(rows(compareScans(a, a))).toEqual([]);
      expect(rows(compareScans(b, b))).toEqual([]);
    }
  });
});
