import { describe, expect, it } from 'vitest';
import type { HostResult } from '../nmap/result.ts';
import { compareScans, type ParsedScan } from './scans.ts';
import { host, meta, port, stats } from './testkit.ts';

const open22 = (address: string): HostResult =>
  host({ address, ports: [port(22, 'open')], extraPorts: [{ state: 'closed', count: 99 }] });

function scan(args: string, hosts: HostResult[], job: string, finished = true): ParsedScan {
  return { meta: meta({ tcp: '1-100' }, args), hosts, stats: finished ? stats() : null, job };
}

const kinds = (s: ReturnType<typeof compareScans>) =>
  s.hosts.map((h) => [h.host, h.baseline, h.changes.map((c) => c.change)]);

describe('compareScans', () => {
  it('matches hosts by address and reports hosts the old scan covered as host-up', () => {
    const old = scan('nmap -sS 10.0.0.0/24', [open22('10.0.0.1')], 'a.xml');
    const next = scan('nmap -sS 10.0.0.0/24', [open22('10.0.0.1'), open22('10.0.0.2')], 'b.xml');
    const delta = compareScans(old, next);
    expect(kinds(delta)).toEqual([
      ['10.0.0.1', false, []],
      ['10.0.0.2', false, ['host-up']],
    ]);
    expect(delta.old).toEqual({
      job: 'a.xml',
      nmapVersion: '7.93',
      args: 'nmap -sS 10.0.0.0/24',
      start: 1_795_268_897,
    });
    expect(delta.new.job).toBe('b.xml');
  });

  it("makes a host outside the old scan's targets, or after an unfinished old run, a baseline", () => {
    const next = scan('nmap -sS 10.0.0.0/24', [open22('10.0.0.2')], 'b');
    expect(kinds(compareScans(scan('nmap -sS 10.0.0.1', [], 'a'), next))).toEqual([
      ['10.0.0.2', true, ['baseline']],
    ]);
    expect(kinds(compareScans(scan('nmap -sS 10.0.0.0/24', [], 'a', false), next))).toEqual([
      ['10.0.0.2', true, ['baseline']],
    ]);
  });

  it('reports a covered host missing from the new scan as host-down, and skips the others', () => {
    const old = scan('nmap -sS 10.0.0.0/24', [open22('10.0.0.1'), open22('10.0.0.2')], 'a');
    const next = scan('nmap -sS 10.0.0.1', [], 'b');
    const delta = compareScans(old, next);
    expect(kinds(delta)).toEqual([['10.0.0.1', false, ['host-down']]]);
    expect(delta.skipped).toEqual([
      { host: '10.0.0.2', reason: "only in the old scan, outside the new scan's targets" },
    ]);
  });

  it('skips every missing host when the new run did not finish or its targets are unknown', () => {
    const old = scan('nmap -sS 10.0.0.1', [open22('10.0.0.1')], 'a');
    expect(compareScans(old, scan('nmap -sS 10.0.0.1', [], 'b', false)).skipped).toEqual([
      { host: '10.0.0.1', reason: 'only in the old scan, and the new scan did not finish' },
    ]);
    expect(compareScans(old, scan('nmap -sS -iL t.txt', [], 'b')).skipped).toEqual([
      {
        host: '10.0.0.1',
        reason: "only in the old scan, and the new scan's targets cannot be read",
      },
    ]);
  });

  it('compares a host nmap listed twice (target given twice) once, by its first result', () => {
    const closed = host({
      ports: [port(22, 'closed')],
      extraPorts: [{ state: 'closed', count: 99 }],
    });
    const old = scan('nmap -sS 10.0.0.1', [open22('10.0.0.1')], 'a');
    const next = scan('nmap -sS 10.0.0.1 10.0.0.1', [closed, open22('10.0.0.1')], 'b');
    expect(kinds(compareScans(old, next))).toEqual([['10.0.0.1', false, ['port-closed']]]);
  });

  it('names the sides old and new when the scans carry no job', () => {
    const old: ParsedScan = scan('nmap -sS 10.0.0.1', [open22('10.0.0.1')], 'a');
    const next: ParsedScan = scan('nmap -sS 10.0.0.1', [], 'b');
    delete old.job;
    delete next.job;
    const change = compareScans(old, next).hosts[0]?.changes[0];
    expect([change?.previousJob, change?.job]).toEqual(['old', 'new']);
  });
});
