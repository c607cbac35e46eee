import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import type { HostResult, RunStats, ScanMeta } from './result.ts';
import { createNmapXmlParser, parseNmapXml } from './xml-stream.ts';
import type { NmapXmlLimits } from './xml-stream.ts';
import { HEAD, NOISE, TAIL, host, portWithScript } from '../../test/nmap/xml-samples.ts';

function recorder(limits?: NmapXmlLimits) {
  const events: string[] = [];
  const hosts: HostResult[] = [];
  let meta: ScanMeta | null = null;
  let stats: RunStats | null = null;
  const parser = createNmapXmlParser(
    {
      onMeta: (m) => {
        meta = m;
        events.push('meta');
      },
      onHost: (h) => {
        hosts.push(h);
        events.push(`host ${h.address}`);
      },
      onStats: (s) => {
        stats = s;
        events.push('stats');
      },
    },
    limits,
  );
  return { parser, events, hosts, meta: () => meta, stats: () => stats };
}

function badXml(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(isScanmeshError(thrown, 'SCANMESH_BAD_XML'), String(thrown)).toBe(true);
}

describe('streaming', () => {
  it('reports each host as soon as its closing tag arrives', () => {
    const r = recorder();
    r.parser.write(HEAD + host('127.0.0.1') + host('127.0.0.2').slice(0, 40));
    expect(r.events).toEqual(['meta', 'host 127.0.0.1']);
    r.parser.write(host('127.0.0.2').slice(40));
    expect(r.events).toEqual(['meta', 'host 127.0.0.1', 'host 127.0.0.2']);
    r.parser.write(TAIL);
    r.parser.end();
    expect(r.events.at(-1)).toBe('stats');
    expect(r.stats()).toMatchObject({ exit: 'success', elapsedS: 2, end: 1700000002 });
  });

  it('reports meta once, at runstats, when no host is reported', () => {
    const r = recorder();
    r.parser.write(HEAD + TAIL);
    r.parser.end();
    expect(r.events).toEqual(['meta', 'stats']);
    expect(r.meta()).toEqual({
      nmapVersion: '7.93',
      args: 'nmap -sT -p 80 127.0.0.1',
      start: 1700000000,
      scanInfo: [{ type: 'connect', protocol: 'tcp', numServices: 1, services: '80' }],
    });
  });

  it('ignores hosthint, task progress and output elements', () => {
    const { hosts } = parseNmapXml(HEAD + NOISE + host('127.0.0.1') + NOISE + TAIL);
    expect(hosts.map((h) => h.address)).toEqual(['127.0.0.1']);
  });

  it('takes a ">" inside a quoted attribute as data', () => {
    const head = HEAD.replace('args="nmap -sT', 'args="nmap > out -sT');
    expect(parseNmapXml(head + TAIL).meta?.args).toBe('nmap > out -sT -p 80 127.0.0.1');
  });

  it('keeps a multi-byte character whole when a chunk ends inside it', () => {
    const output = 'caf\u00e9 \u2713 \u{1f600}';
    const bytes = Buffer.from(HEAD + host('127.0.0.1', portWithScript(output)) + TAIL);
    const r = recorder();
    for (let i = 0; i < bytes.length; i++) r.parser.write(bytes.subarray(i, i + 1));
    r.parser.end();
    expect(r.hosts[0]?.ports[0]?.scripts).toEqual([{ id: 'banner', output }]);
  });
});

describe('refusals', () => {
  it('refuses an entity declared in the DOCTYPE, before reading on', () => {
    const r = recorder();
    const doc = HEAD.replace(
      '<!DOCTYPE nmaprun>',
      '<!DOCTYPE nmaprun [<!ENTITY boom "boom">]>',
    ).replace('args="nmap', 'args="&boom; nmap');
    badXml(() => r.parser.write(doc));
    expect(r.events).toEqual([]);
  });

  it('refuses a bare <!ENTITY declaration between elements', () => {
    badXml(() => parseNmapXml(HEAD + '<!ENTITY x "y">\n' + host('127.0.0.1') + TAIL));
  });

  it('refuses an <!ENTITY declaration inside a host', () => {
    const inner = '<!ENTITY x "y">\n';
    badXml(() => parseNmapXml(HEAD + host('127.0.0.1', inner) + TAIL));
  });

  it('refuses an undeclared entity reference instead of expanding it', () => {
    badXml(() => parseNmapXml(HEAD + host('127.0.0.1', portWithScript('&xxe;')) + TAIL));
  });

  it('refuses a host larger than maxHostBytes, counting bytes rather than characters', () => {
    const small = host('127.0.0.1', portWithScript('x'.repeat(100)));
    expect(parseHosts(small, 1024)).toBe(1);
    badXml(() => parseHosts(host('127.0.0.1', portWithScript('x'.repeat(2000))), 1024));
    // 700 characters, 2100 bytes: under the limit in characters, over it in bytes.
    badXml(() => parseHosts(host('127.0.0.1', portWithScript('\u2713'.repeat(700))), 1024));
  });

  it('refuses an oversized host while it is still arriving, without buffering it all', () => {
    const r = recorder({ maxHostBytes: 1024 });
    r.parser.write(HEAD + '<host><status state="up" reason="x"/>');
    badXml(() => r.parser.write('<hostnames/>'.repeat(100)));
  });

  it('refuses malformed elements, stray text, and content around <nmaprun>', () => {
    badXml(() => parseNmapXml(HEAD + '<host><status state="up"></host>\n' + TAIL));
    badXml(() => parseNmapXml(HEAD + 'Starting Nmap 7.93\n' + host('127.0.0.1') + TAIL));
    badXml(() => parseNmapXml(host('127.0.0.1') + HEAD + TAIL));
    badXml(() => parseNmapXml(HEAD + TAIL + '<host/>'));
    badXml(() => parseNmapXml(HEAD + '</ports>\n' + TAIL));
  });

  it('refuses a document that ends early', () => {
    badXml(() => parseNmapXml(''));
    badXml(() => parseNmapXml(HEAD + host('127.0.0.1').slice(0, 80)));
    badXml(() => parseNmapXml(HEAD + host('127.0.0.1')));
  });

  it('stays failed after a refusal', () => {
    const r = recorder();
    let first: unknown;
    try {
      r.parser.write(HEAD + 'junk');
    } catch (err) {
      first = err;
    }
    expect(isScanmeshError(first, 'SCANMESH_BAD_XML')).toBe(true);
    expect(() => r.parser.write(host('127.0.0.1'))).toThrow(first as Error);
    expect(() => r.parser.end()).toThrow(first as Error);
    expect(r.hosts).toEqual([]);
  });
});

function parseHosts(hostXml: string, maxHostBytes: number): number {
  const r = recorder({ maxHostBytes });
  r.parser.write(HEAD + hostXml + TAIL);
  r.parser.end();
  return r.hosts.length;
}
