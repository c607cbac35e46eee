import { describe, expect, it } from 'vitest';
import type { Change, HostDelta } from './changes.ts';
import { loadPair } from './fixture-pairs.ts';
import { renderHostDelta, renderScanDelta, scanDeltaJson } from './report.ts';
import { compareScans } from './scans.ts';

function change(over: Partial<Change>): Change {
  return {
    host: '10.0.0.1',
    port: null,
    protocol: null,
    change: 'baseline',
    before: '',
    after: '',
    job: 'j-2',
    previousJob: 'j-1',
    noisy: false,
    ...over,
  };
}

function delta(changes: Change[], noise: string[] = []): HostDelta {
  return {
    host: '10.0.0.1',
    baseline: false,
    changes,
    noisy: noise.length > 0 || changes.some((c) => c.noisy),
    noise,
  };
}

describe('renderScanDelta', () => {
  it('prints an ndiff-like report of a real pair', () => {
    expect(renderScanDelta(compareScans(...loadPair('service')))).toBe(
      [
        '-Nmap 7.93 scan service-1.xml at 2026-11-21 13:59:55 UTC as: nmap -sT -sV -p 31110-31112 -oX service-1.xml 127.0.0.1',
        '+Nmap 7.93 scan service-2.xml at 2026-11-21 14:00:03 UTC as: nmap -sT -sV -p 31110-31112 -oX service-2.xml 127.0.0.1',
        '',
        ' 127.0.0.1:',
        '-31110/tcp open http SimpleHTTPServer 0.6 (Python 3.11.7)',
        '+31110/tcp open ftp vsftpd 3.0.3',
        '-31111/tcp open ssh OpenSSH 8.9p1 (protocol 2.0)',
        '+31111/tcp open ssh OpenSSH 9.6p1 (protocol 2.0)',
        '-31112/tcp open ftp ProFTPD 1.3.5',
        '+31112/tcp open ftp vsftpd 3.0.3',
        '',
        '1 host compared: 1 changed, 3 changes (0 noisy)',
        '',
      ].join('\n'),
    );
  });

  it('leaves out unchanged hosts, and names hosts not compared', () => {
    const [a, b] = loadPair('gone-sn');
    const text = renderScanDelta(compareScans(a, { ...b, hosts: [] }));
    expect(text.split('\n').slice(3)).toEqual([
      ' 127.0.0.1:',
      '-Host is up.',
      '+Host is down (not listed).',
      '',
      ' 10.200.61.2:',
      '-Host is up.',
      '+Host is down (not listed).',
      '',
      '2 hosts compared: 2 changed, 2 changes (0 noisy)',
      '',
    ]);
    // A ping sweep of both hosts, then a port scan of 10.200.61.2 alone: nothing to compare on
    // 10.200.61.2 (the sweep probed no ports), and 127.0.0.1 was not a target.
    const [silence] = loadPair('silence');
    const lines = renderScanDelta(compareScans(a, silence)).split('\n');
    expect(lines.slice(3)).toEqual([
      "! 127.0.0.1: not compared: only in the old scan, outside the new scan's targets",
      '1 host compared: 0 changed, 0 changes (0 noisy), 1 not compared',
      '',
    ]);
  });
});

describe('renderHostDelta', () => {
  it('marks noisy changes and prints why a host is noisy', () => {
    const lines = renderHostDelta(
      delta(
        [
          change({
            change: 'port-state',
            port: 80,
            protocol: 'tcp',
            before: 'open',
            after: 'filtered',
            noisy: true,
          }),
        ],
        ['new scan: nmap reported exit "error"'],
      ),
    );
    expect(lines).toEqual([
      ' 10.0.0.1:',
      '! new scan: nmap reported exit "error"',
      '-80/tcp open',
      '+80/tcp filtered  [noisy]',
    ]);
  });

  it('prints baselines, OS and multi-line script changes', () => {
    const lines = renderHostDelta(
      delta([
        change({ change: 'baseline', after: 'up; open: 22/tcp ssh' }),
        change({ change: 'os-changed', before: 'Linux 5.0 - 5.14', after: 'FreeBSD 13.1' }),
        change({
          change: 'script-changed',
          port: 443,
          protocol: 'tcp',
          before: 'ssl-cert: Subject: a\nNot after: 2026',
          after: 'ssl-cert: Subject: b\nNot after: 2027',
          noisy: true,
        }),
      ]),
    );
    expect(lines).toEqual([
      ' 10.0.0.1:',
      '+Baseline (first result for this host): up; open: 22/tcp ssh',
      '-OS: Linux 5.0 - 5.14',
      '+OS: FreeBSD 13.1',
      '-443/tcp script |ssl-cert: Subject: a',
      '-               |Not after: 2026',
      '+443/tcp script |ssl-cert: Subject: b',
      '+               |Not after: 2027  [noisy]',
    ]);
  });
});

describe('scanDeltaJson', () => {
  it('holds the headers, a summary, the hosts with changes or noise, and skipped hosts', () => {
    const json = scanDeltaJson(compareScans(...loadPair('gone-sn')));
    expect(json.summary).toEqual({
      hostsCompared: 2,
      hostsChanged: 1,
      changes: 1,
      noisyChanges: 0,
      skipped: 0,
    });
    expect(json.old.args).toBe('nmap -sn -oX gone-sn-1.xml 127.0.0.1 10.200.61.2');
    expect(json.hosts).toEqual([
      {
        host: '10.200.61.2',
        baseline: false,
        noisy: false,
        noise: [],
        changes: [
          {
            host: '10.200.61.2',
            port: null,
            protocol: null,
            change: 'host-down',
            before: 'up',
            after: 'down (not listed)',
            job: 'gone-sn-2.xml',
            previousJob: 'gone-sn-1.xml',
            noisy: false,
          },
        ],
      },
    ]);
    expect(json.skipped).toEqual([]);
    // It survives a round trip as it is: nothing in it needs a custom serialiser.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
