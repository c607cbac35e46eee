import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../../src/errors.ts';
import { createElementReader } from '../../src/nmap/xml-read.ts';
import { readHost } from '../../src/nmap/xml-host.ts';
import { createNmapXmlParser } from '../../src/nmap/xml-stream.ts';
import type { NmapXmlHandlers, NmapXmlLimits, NmapXmlParser } from '../../src/nmap/xml-stream.ts';
import { nmapXml } from '../bench/lib/nmap-xml.ts';
import { Prng } from '../fuzz/prng.ts';
import { footerXml, headerXml, hostXml, parseArgs } from '../harness/fake-nmap.ts';
import { nmapDocument } from './xml-generate.ts';
import { HEAD, NOISE, TAIL, host, portWithScript } from './xml-samples.ts';
import { mapHost } from './xml2js-oracle/xml-map.ts';
import { parseElement } from './xml2js-oracle/xml-node.ts';
import { createOracleParser } from './xml2js-oracle/xml-stream.ts';

/*
 * The stream parser reads each element with sax callbacks; before, it parsed each one into an
 * xml2js tree and mapped the tree. The old way is kept in test/nmap/xml2js-oracle as the
 * reference: both parsers get the same bytes in the same chunks and must make the same
 * callbacks with the same values (key order included), and fail at the same call with the same
 * code.
 */

type Make = (handlers: NmapXmlHandlers, limits?: NmapXmlLimits) => NmapXmlParser;

interface Outcome {
  events: [string, unknown][];
  /** The write (0-based, `end()` last) that threw, and what it threw. */
  failure: { call: number; code: string } | null;
}

function run(make: Make, chunks: readonly (Buffer | string)[], limits?: NmapXmlLimits): Outcome {
  const events: [string, unknown][] = [];
  const parser = make(
    {
      onMeta: (m) => events.push(['meta', m]),
      onHost: (h) => events.push(['host', h]),
      onStats: (s) => events.push(['stats', s]),
    },
    limits,
  );
  const calls = [...chunks.map((c) => () => parser.write(c)), () => parser.end()];
  for (const [call, step] of calls.entries()) {
    try {
      step();
    } catch (err) {
      const code = isScanmeshError(err) ? err.code : `not a ScanmeshError: ${String(err)}`;
      return { events, failure: { call, code } };
    }
  }
  return { events, failure: null };
}

function expectSame(chunks: readonly (Buffer | string)[], limits?: NmapXmlLimits): Outcome {
  const ours = run(createNmapXmlParser, chunks, limits);
  const oracle = run(createOracleParser, chunks, limits);
  expect(ours).toEqual(oracle);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(oracle));
  return ours;
}

function split(bytes: Buffer, size: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = size();
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Whole as a string and as bytes, then in random byte chunks of up to 1, 7, 97 and 4096 bytes;
 * only the chunkings that take at most 20,000 writes, since each write of a partial element
 * searches the whole buffered element again.
 */
function expectSameChunked(xml: string, seed: number, limits?: NmapXmlLimits): Outcome {
  const rng = new Prng(seed);
  const bytes = Buffer.from(xml);
  const whole = expectSame([xml], limits);
  expectSame([bytes], limits);
  for (const max of [1, 7, 97, 4096]) {
    if (bytes.length / ((max + 1) / 2) > 20_000) continue;
    expectSame(
      split(bytes, () => rng.between(1, max)),
      limits,
    );
  }
  return whole;
}

const FIXTURE_DIRS = ['nmap', 'delta'].map((d) => new URL(`../fixtures/${d}/`, import.meta.url));
const FIXTURES = FIXTURE_DIRS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ name: f, url: new URL(f, dir) })),
);

describe('the sax readers against the xml2js mapping', () => {
  it('finds the captured fixtures', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(23);
  });

  it.each(FIXTURES)('fixture $name', ({ url }) => {
    const out = expectSameChunked(readFileSync(url, 'utf8'), 7);
    expect(out.failure).toBeNull();
    expect(out.events.at(-1)?.[0]).toBe('stats');
  });

  it('the stream tests’ documents, accepted and refused', () => {
    const head = HEAD.replace('args="nmap -sT', 'args="nmap > out -sT');
    const accepted = [
      HEAD + TAIL,
      HEAD + host('127.0.0.1') + host('127.0.0.2') + TAIL,
      HEAD + NOISE + host('127.0.0.1') + NOISE + TAIL,
      head + TAIL,
      HEAD + host('127.0.0.1', portWithScript('caf\u00e9 \u2713 \u{1f600}')) + TAIL,
      HEAD + host('127.0.0.1', portWithScript('a &amp; &lt;b&gt; &#x41;&#66; &quot;')) + TAIL,
    ];
    const refused = [
      HEAD.replace('<!DOCTYPE nmaprun>', '<!DOCTYPE nmaprun [<!ENTITY boom "boom">]>'),
      HEAD + '<!ENTITY x "y">\n' + host('127.0.0.1') + TAIL,
      HEAD + host('127.0.0.1', '<!ENTITY x "y">\n') + TAIL,
      HEAD + host('127.0.0.1', portWithScript('&xxe;')) + TAIL,
      HEAD + '<host><status state="up"></host>\n' + TAIL,
      HEAD + 'Starting Nmap 7.93\n' + host('127.0.0.1') + TAIL,
      host('127.0.0.1') + HEAD + TAIL,
      HEAD + TAIL + '<host/>',
      HEAD + '</ports>\n' + TAIL,
      '',
      HEAD + host('127.0.0.1').slice(0, 80),
      HEAD + host('127.0.0.1'),
    ];
    for (const [i, xml] of accepted.entries()) expect(expectSameChunked(xml, i).failure).toBeNull();
    for (const [i, xml] of refused.entries())
      expect(expectSameChunked(xml, i).failure).not.toBeNull();
    const big = HEAD + host('127.0.0.1', portWithScript('\u2713'.repeat(700))) + TAIL;
    expect(expectSameChunked(big, 1, { maxHostBytes: 1024 }).failure?.code).toBe(
      'SCANMESH_BAD_XML',
    );
  });

  it('the reports the fake nmap and the bench generate', () => {
    const cmd = parseArgs(['-sT', '-p', '22,80,443', '127.0.0.1-3']);
    const fake =
      headerXml(cmd, 1_795_267_542) +
      cmd.targets.map((t) => hostXml(t, cmd.ports, 1_795_267_543)).join('') +
      footerXml(cmd.targets.length, 1_795_267_542, 1_795_267_544, 2);
    expect(expectSameChunked(fake, 3).events).toHaveLength(cmd.targets.length + 2);
    expect(expectSameChunked(nmapXml(40).toString('utf8'), 4).events).toHaveLength(42);
  });

  it('hostile shapes: deep nesting, huge attributes, many hosts', () => {
    const addr = '<address addr="127.0.0.1" addrtype="ipv4"/>';
    const deep = `<host>${addr}${'<x>'.repeat(5_000)}${'</x>'.repeat(5_000)}</host>\n`;
    const huge = host('127.0.0.1', portWithScript('y'.repeat(200_000)));
    for (const inner of [deep, huge, host('127.0.0.1').repeat(300)]) {
      expect(expectSameChunked(HEAD + inner + TAIL, 5).failure).toBeNull();
    }
    const refused = expectSameChunked(HEAD + huge + TAIL, 6, { maxHostBytes: 64 * 1024 });
    expect(refused.failure?.code).toBe('SCANMESH_BAD_XML');
  });

  it('400 generated documents, a fifth of them broken', () => {
    const outcomes = new Set<string>();
    let hosts = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const xml = nmapDocument(new Prng(seed));
      const limits = seed % 10 === 0 ? { maxHostBytes: 600 } : undefined;
      const out = expectSameChunked(xml, seed, limits);
      hosts += out.events.filter(([kind]) => kind === 'host').length;
      const call = out.failure?.call;
      outcomes.add(
        call === undefined ? 'accepted' : call === 0 ? 'refused in write' : 'refused at end',
      );
    }
    // The generator must reach both outcomes, or this compares less than it claims.
    expect(hosts).toBeGreaterThan(200);
    expect(outcomes).toEqual(new Set(['accepted', 'refused in write', 'refused at end']));
  });

  it('differs on purpose on an element named `_`, which xml2js took for its text key', () => {
    const xml = '<host><address addr="127.0.0.1" addrtype="ipv4"/><_/></host>';
    expect(() => mapHost(parseElement(xml))).toThrow(/charkey/);
    expect(readHost(createElementReader(), xml).address).toBe('127.0.0.1');
  });
});
