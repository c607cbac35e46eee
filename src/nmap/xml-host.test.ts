import { describe, expect, it } from 'vitest';
import { readHost } from './xml-host.ts';
import { createElementReader } from './xml-read.ts';
import { codeOf } from '../testkit.ts';

const hostOf = (xml: string) => readHost(createElementReader(), xml);

describe('readHost', () => {
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

describe('readHost reads as the xml2js tree mapping did', () => {
  const addr = '<address addr="127.0.0.1" addrtype="ipv4"/>';

  it('takes the first status, ports, state and service, and only direct children', () => {
    const host = hostOf(
      `<host>${addr}<status state="up"/><status state="down"/>` +
        '<ports><port portid="1"><state state="open"/><state state="closed"/>' +
        '<service name="a"><cpe>x</cpe></service><service name="b"><cpe>y</cpe></service>' +
        '<x><script id="deep"/></x><script id="s"/></port></ports>' +
        '<ports><port portid="http"/></ports><x><port portid="2"/></x></host>',
    );
    expect(host.state).toBe('up');
    expect(host.ports).toHaveLength(1);
    expect(host.ports[0]).toMatchObject({ state: 'open', service: 'a', cpe: ['x'] });
    expect(host.ports[0]?.scripts).toEqual([{ id: 's', output: '' }]);
  });

  it('keeps a cpe text whole, and blank only where the cpe has nothing else', () => {
    const cpes = (inner: string) =>
      hostOf(
        `<host>${addr}<ports><port portid="1"><service>${inner}</service></port></ports></host>`,
      ).ports[0]?.cpe;
    expect(cpes('<cpe> a </cpe><cpe>b<i/>c</cpe><cpe>&amp;</cpe>')).toEqual([' a ', 'bc', '&']);
    expect(cpes('<cpe> </cpe><cpe/><cpe k="v"> </cpe><cpe><i/> </cpe>')).toEqual([' ', '', '', '']);
  });
});
