import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostResult, runStats, scanMeta } from '../protocol/messages/host-result.ts';
import type { HostResult, PortResult } from './result.ts';
import { createNmapXmlParser, parseNmapXml } from './xml-stream.ts';

// Real nmap 7.93 output, captured by test/fixtures/nmap/capture.sh against its own listeners.
const FIXTURES = [
  'tcp-connect',
  'udp',
  'service-version',
  'os-detect',
  'ping-sweep',
  'verbose-progress',
  'ipv6',
  'two-hosts',
  'run-error',
] as const;
type Fixture = (typeof FIXTURES)[number];

function raw(name: Fixture): Buffer {
  return readFileSync(new URL(`../../test/fixtures/nmap/${name}.xml`, import.meta.url));
}

function parsed(name: Fixture) {
  return parseNmapXml(raw(name).toString('utf8'));
}

type Event = ['meta' | 'host' | 'stats', unknown];

/** Feeds the bytes in chunks of the sizes `next` picks and records every callback in order. */
function feed(bytes: Buffer, next: () => number): Event[] {
  const events: Event[] = [];
  const parser = createNmapXmlParser({
    onMeta: (m) => events.push(['meta', m]),
    onHost: (h) => events.push(['host', h]),
    onStats: (s) => events.push(['stats', s]),
  });
  for (let at = 0; at < bytes.length;) {
    const size = next();
    parser.write(bytes.subarray(at, at + size));
    at += size;
  }
  parser.end();
  return events;
}

/** mulberry32: a seeded generator, so a failing chunking is reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const portsIn = (host: HostResult | undefined, state: string) =>
  (host?.ports ?? []).filter((p) => p.state === state).map((p) => p.port);
const port = (host: HostResult | undefined, n: number): PortResult | undefined =>
  host?.ports.find((p) => p.port === n);

describe('every fixture', () => {
  it.each(FIXTURES)(
    '%s: the same callbacks whether fed whole, per byte or in random chunks',
    (name) => {
      const bytes = raw(name);
      const whole = feed(bytes, () => bytes.length);
      expect(whole[0]?.[0]).toBe('meta');
      expect(whole.filter(([kind]) => kind === 'meta')).toHaveLength(1);
      expect(whole.at(-1)?.[0]).toBe('stats');
      expect(feed(bytes, () => 1)).toEqual(whole);
      for (const seed of [1, 2, 3]) {
        const random = seeded(seed);
        expect(feed(bytes, () => 1 + Math.floor(random() * 97))).toEqual(whole);
      }
    },
  );

  it.each(FIXTURES)('%s: meta, hosts and stats pass the DATA message schemas', (name) => {
    const { meta, hosts, stats } = parsed(name);
    expect(scanMeta.parse(meta)).toEqual(meta);
    expect(runStats.parse(stats)).toEqual(stats);
    for (const host of hosts) expect(hostResult.parse(host)).toEqual(host);
  });
});

describe('tcp-connect (-sT, three listeners, two closed ports)', () => {
  const { meta, hosts, stats } = parsed('tcp-connect');
  const host = hosts[0];

  it('reads the run header', () => {
    expect(meta).toEqual({
      nmapVersion: '7.93',
      args: 'nmap -sT -Pn -p 47001,47002,47003,47004,47005 -oX tcp-connect.xml 127.0.0.1',
      start: 1795267542,
      scanInfo: [{ type: 'connect', protocol: 'tcp', numServices: 5, services: '47001-47005' }],
    });
  });

  it('finds exactly the listening ports open and the others closed', () => {
    expect(hosts).toHaveLength(1);
    expect(host?.address).toBe('127.0.0.1');
    expect(host?.state).toBe('up');
    expect(host?.reason).toBe('user-set');
    expect(host?.hostnames).toEqual([{ name: 'localhost', type: 'PTR' }]);
    expect(portsIn(host, 'open')).toEqual([47001, 47002, 47005]);
    expect(portsIn(host, 'closed')).toEqual([47003, 47004]);
    expect(port(host, 47003)).toMatchObject({ protocol: 'tcp', reason: 'conn-refused' });
    // Without -sV nmap names a port from its services table, and leaves the rest empty.
    expect(port(host, 47001)).toMatchObject({ service: 'winrm', product: '', cpe: [] });
    expect(port(host, 47002)?.service).toBe('');
  });

  it('converts srtt from microseconds and keeps the host times', () => {
    expect(host?.latencyMs).toBeCloseTo(0.474, 6);
    expect(host?.startTime).toBe(1795267542);
    expect(host?.endTime).toBe(1795267542);
    expect(host?.extraPorts).toEqual([]);
  });

  it('reads runstats', () => {
    expect(stats).toEqual({
      end: 1795267542,
      elapsedS: 0.03,
      exit: 'success',
      errorMessage: '',
      summary:
        'Nmap done at Sat Nov 21 13:25:42 2026; 1 IP address (1 host up) scanned in 0.03 seconds',
      hostsUp: 1,
      hostsDown: 0,
      hostsTotal: 1,
    });
  });
});

describe('udp (-sU, one echo listener)', () => {
  const { meta, hosts } = parsed('udp');
  it('reports the answering port open and the other closed', () => {
    expect(meta?.scanInfo).toEqual([
      { type: 'udp', protocol: 'udp', numServices: 2, services: '47011-47012' },
    ]);
    expect(port(hosts[0], 47011)).toMatchObject({
      protocol: 'udp',
      state: 'open',
      reason: 'udp-response',
    });
    expect(port(hosts[0], 47012)).toMatchObject({
      protocol: 'udp',
      state: 'closed',
      reason: 'port-unreach',
      service: 'unknown',
    });
  });
});

describe('service-version (-sV with scripts)', () => {
  const { meta, hosts } = parsed('service-version');
  const host = hosts[0];
  it('decodes character references in args', () => {
    expect(meta?.args).toBe(
      'nmap -sV --script http-title,http-server-header,ipidseq -p 47001,47003 -oX service-version.xml 127.0.0.1',
    );
  });

  it('maps the detected service, its cpe and its port scripts', () => {
    expect(port(host, 47001)).toEqual({
      protocol: 'tcp',
      port: 47001,
      state: 'open',
      reason: 'syn-ack',
      service: 'http',
      product: 'SimpleHTTPServer',
      version: '0.6',
      extrainfo: 'Python 3.11.7',
      cpe: ['cpe:/a:python:simplehttpserver:0.6'],
      scripts: [
        { id: 'http-title', output: 'scanmesh fixture' },
        { id: 'http-server-header', output: 'SimpleHTTP/0.6 Python/3.11.7' },
      ],
    });
    expect(port(host, 47003)).toMatchObject({ state: 'closed', reason: 'reset', scripts: [] });
  });

  it('maps host scripts', () => {
    expect(host?.scripts).toEqual([{ id: 'ipidseq', output: 'All zeros' }]);
    expect(host?.startTime).toBe(1795267542);
    expect(host?.endTime).toBe(1795267553);
  });
});

describe('os-detect (-O)', () => {
  const host = parsed('os-detect').hosts[0];
  it('lists every OS match with its accuracy, best first', () => {
    expect(host?.os).toHaveLength(10);
    expect(host?.os[0]).toEqual({ name: 'Linux 5.0 - 5.2', accuracy: 97 });
    expect(host?.os).toContainEqual({ name: 'Linux 2.6.32', accuracy: 93 });
    expect(host?.os.at(-1)).toEqual({ name: 'Linux 3.8 - 4.14', accuracy: 92 });
    expect(portsIn(host, 'open')).toEqual([47001]);
    expect(portsIn(host, 'closed')).toEqual([47003]);
  });
});

describe('ping-sweep (-sn -v on a namespace: one host up, one down)', () => {
  const { meta, hosts, stats } = parsed('ping-sweep');
  it('has no scaninfo for a ping scan', () => {
    expect(meta?.scanInfo).toEqual([]);
  });

  it('reports the namespace host with its MAC vendor', () => {
    expect(hosts[0]).toMatchObject({ address: '10.200.9.2', state: 'up', reason: 'arp-response' });
    expect(hosts[0]?.addresses).toEqual([
      { addr: '10.200.9.2', type: 'ipv4', vendor: '' },
      { addr: '52:54:00:12:34:56', type: 'mac', vendor: 'QEMU virtual NIC' },
    ]);
    expect(hosts[0]?.ports).toEqual([]);
    expect(hosts[0]?.startTime).toBeNull();
  });

  it('reports the absent host down, without latency', () => {
    expect(hosts[1]).toMatchObject({
      address: '10.200.9.99',
      state: 'down',
      reason: 'no-response',
      latencyMs: null,
      hostnames: [],
    });
    expect(stats).toMatchObject({ hostsUp: 1, hostsDown: 1, hostsTotal: 2 });
  });
});

describe('verbose-progress (-v with task progress and host hints)', () => {
  const text = raw('verbose-progress').toString('utf8');
  const { hosts } = parsed('verbose-progress');
  it('is the fixture it claims to be', () => {
    for (const tag of ['<taskbegin ', '<taskprogress ', '<taskend ', '<hosthint>']) {
      expect(text).toContain(tag);
    }
  });

  it('reports hosts only from <host>, in nmap order, never from <hosthint>', () => {
    expect(hosts.map((h) => [h.address, h.state])).toEqual([
      ['10.200.9.99', 'down'],
      ['10.200.9.2', 'up'],
    ]);
    expect(portsIn(hosts[1], 'open')).toEqual([47080]);
    expect(port(hosts[1], 47081)).toMatchObject({ state: 'closed', reason: 'reset' });
    expect(hosts[1]?.addresses[1]).toEqual({
      addr: '52:54:00:12:34:56',
      type: 'mac',
      vendor: 'QEMU virtual NIC',
    });
  });
});

describe('ipv6 (-6 on ::1)', () => {
  const host = parsed('ipv6').hosts[0];
  it('uses the IPv6 address as the primary address', () => {
    expect(host?.address).toBe('::1');
    expect(host?.addresses).toEqual([{ addr: '::1', type: 'ipv6', vendor: '' }]);
    expect(portsIn(host, 'open')).toEqual([47001]);
    expect(portsIn(host, 'closed')).toEqual([47003]);
  });
});

describe('two-hosts (127.0.0.1 and 127.0.0.2 in one scan)', () => {
  const { hosts, stats } = parsed('two-hosts');
  it('reports both hosts with their collapsed closed ports', () => {
    expect(hosts.map((h) => h.address)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(portsIn(hosts[0], 'open')).toEqual([47001, 47002, 47005]);
    expect(hosts[0]?.extraPorts).toEqual([{ state: 'closed', count: 37 }]);
    expect(hosts[1]?.ports).toEqual([]);
    expect(hosts[1]?.extraPorts).toEqual([{ state: 'closed', count: 40 }]);
    expect(stats).toMatchObject({ hostsUp: 2, hostsDown: 0, hostsTotal: 2 });
  });
});

describe('run-error (nmap --privileged -sS as an unprivileged user)', () => {
  const { meta, hosts, stats } = parsed('run-error');
  it("keeps nmap's error report", () => {
    expect(hosts).toEqual([]);
    expect(meta?.scanInfo).toEqual([
      { type: 'syn', protocol: 'tcp', numServices: 1, services: '47003' },
    ]);
    expect(stats).toMatchObject({
      exit: 'error',
      errorMessage: "Couldn't open a raw socket. Error: Operation not permitted (1)",
      hostsTotal: 0,
      // nmap's own count, -1 printed as unsigned.
      hostsDown: 4294967295,
    });
  });
});
