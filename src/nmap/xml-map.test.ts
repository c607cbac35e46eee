import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { mapHost, mapMeta, mapRunStats } from './xml-map.ts';
import { parseElement } from './xml-node.ts';

const hostOf = (xml: string) => mapHost(parseElement(xml));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return isScanmeshError(err) ? err.code : String(err);
  }
  return 'no error';
}

describe('mapHost', () => {
  it('fills what nmap left out with empty strings, empty lists and nulls', () => {
    const host = hostOf(
      '<host><address addr="10.200.9.7" addrtype="ipv4"/><ports><port protocol="tcp" portid="22"/></ports></host>',
    );
    expect(host).toEqual({
      address: '10.200.9.7',
      addresses: [{ addr: '10.200.9.7', type: 'ipv4', vendor: '' }],
      hostnames: [],
      state: 'unknown',
      reason: '',
      latencyMs: null,
      ports: [
        {
          protocol: 'tcp',
          port: 22,
          state: '',
          reason: '',
          service: '',
          product: '',
          version: '',
          extrainfo: '',
          cpe: [],
          scripts: [],
        },
      ],
      extraPorts: [],
      os: [],
      scripts: [],
      startTime: null,
      endTime: null,
    });
  });

  it('takes the first IP address as primary, even after a MAC', () => {
    const host = hostOf(
      '<host><status state="up" reason="arp-response"/><address addr="52:54:00:12:34:56" addrtype="mac"/><address addr="fe80::1" addrtype="ipv6"/><address addr="10.200.9.2" addrtype="ipv4"/></host>',
    );
    expect(host.address).toBe('fe80::1');
    expect(host.addresses[0]).toEqual({ addr: '52:54:00:12:34:56', type: 'mac', vendor: '' });
  });

  it('maps states outside up/down to unknown', () => {
    const host = hostOf(
      '<host><status state="skipped" reason="user-set"/><address addr="127.0.0.1" addrtype="ipv4"/></host>',
    );
    expect(host.state).toBe('unknown');
  });

  it('refuses a host without an IP, unknown address types and impossible numbers', () => {
    const addr = '<address addr="127.0.0.1" addrtype="ipv4"/>';
    expect(codeOf(() => hostOf('<host><address addr="aa:bb" addrtype="mac"/></host>'))).toBe(
      'SCANMESH_BAD_XML',
    );
    expect(codeOf(() => hostOf('<host><address addr="x" addrtype="ipx"/></host>'))).toBe(
      'SCANMESH_BAD_XML',
    );
    for (const bad of [
      `<host>${addr}<ports><port protocol="tcp" portid="http"/></ports></host>`,
      `<host>${addr}<ports><port protocol="tcp" portid="70000"/></ports></host>`,
      `<host>${addr}<ports><port protocol="tcp"/></ports></host>`,
      `<host starttime="-5">${addr}</host>`,
      `<host>${addr}<times srtt="fast"/></host>`,
      `<host>${addr}<os><osmatch name="Linux" accuracy="high"/></os></host>`,
    ]) {
      expect(
        codeOf(() => hostOf(bad)),
        bad,
      ).toBe('SCANMESH_BAD_XML');
    }
  });
});

describe('mapMeta and mapRunStats', () => {
  it('requires the run start time', () => {
    expect(codeOf(() => mapMeta(parseElement('<nmaprun version="7.93"/>'), []))).toBe(
      'SCANMESH_BAD_XML',
    );
  });

  it('reads an interrupted runstats with what it has', () => {
    expect(mapRunStats(parseElement('<runstats><finished exit="error"/></runstats>'))).toEqual({
      end: null,
      elapsedS: null,
      exit: 'error',
      errorMessage: '',
      summary: '',
      hostsUp: 0,
      hostsDown: 0,
      hostsTotal: 0,
    });
  });
});
