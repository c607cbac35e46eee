import { readdirSync, readFileSync } from 'node:fs';
import sax from 'sax';
import { describe, expect, it } from 'vitest';
import { nmapXml } from '../../test/bench/lib/nmap-xml.ts';
import { Prng } from '../../test/fuzz/prng.ts';
import { host, portWithScript } from '../../test/nmap/xml-samples.ts';
import { CLOSE, ElementScanner, OPEN } from './xml-scan.ts';
import { attributeList, type Attributes } from './xml-values.ts';
import { nextPiece } from './xml-split.ts';

/*
 * The scanner only ever takes over from sax: whenever it reads an element, it must report what
 * sax reports for it, and sax must accept it. These tests hold the two side by side on nmap's
 * elements and on thousands of mutations of them, and check that the scanner does read the
 * plain elements, so that a scanner that gives up on everything cannot pass.
 */

/** Events as lines; attributes as name=value with the first of two of a name kept, as sax does. */
function lines(events: readonly (readonly [string, ...unknown[]])[]): string[] {
  return events.map(([kind, name, attributes]) => {
    if (kind !== 'open') return `${kind} ${JSON.stringify(name ?? '')}`;
    const list = attributes as Attributes;
    const seen = new Set<string>();
    const pairs: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      const key = list[i] as string;
      if (!seen.has(key)) pairs.push(`${key}=${JSON.stringify(list[i + 1])}`);
      seen.add(key);
    }
    return `open ${String(name)} ${pairs.join(' ')}`;
  });
}

/** sax's events for one element, as createElementReader configures it; null when sax refuses. */
function saxLines(xml: string): string[] | null {
  const events: [string, ...unknown[]][] = [];
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position: false });
  parser.onopentag = (tag) => events.push(['open', tag.name, attributeList(tag.attributes)]);
  parser.onclosetag = () => events.push(['close']);
  parser.ontext = (text) => events.push(['text', text]);
  parser.onerror = (err) => {
    throw err;
  };
  try {
    parser.write(xml).close();
  } catch {
    return null;
  }
  return lines(events);
}

/** The scanner's events for one element; null when it gives up. */
function scanLines(xml: string): string[] | null {
  const scanner = new ElementScanner();
  if (!scanner.scan(xml)) return null;
  const out = scanner.events;
  const events: [string, ...unknown[]][] = [];
  for (let i = 0; i < scanner.length;) {
    if (out[i] === OPEN) {
      events.push(['open', out[i + 1], out[i + 2]]);
      i += 3;
    } else if (out[i] === CLOSE) {
      events.push(['close']);
      i += 1;
    } else {
      events.push(['text', out[i + 1]]);
      i += 2;
    }
  }
  return lines(events);
}

/** Whether the scanner read `xml`; throws when it read it otherwise than sax. */
function agrees(xml: string): boolean {
  const scanned = scanLines(xml);
  if (scanned === null) return false;
  expect(saxLines(xml), xml).toEqual(scanned);
  return true;
}

function elementsOf(doc: string): string[] {
  const out: string[] = [];
  for (let pos = 0; ;) {
    const piece = nextPiece(doc, pos, 0);
    if (piece.kind === 'more') return out;
    if (piece.kind === 'element') out.push(doc.slice(piece.start, piece.end));
    pos = piece.end;
  }
}

const FIXTURES = ['nmap', 'delta'].flatMap((d) => {
  const dir = new URL(`../../test/fixtures/${d}/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .flatMap((f) => elementsOf(readFileSync(new URL(f, dir), 'utf8')));
});
const GENERATED = elementsOf(nmapXml(3).toString('utf8'));

describe('ElementScanner against sax', () => {
  it('reads every element of the captured and generated reports as sax does', () => {
    const all = [...FIXTURES, ...GENERATED];
    expect(all.length).toBeGreaterThan(100);
    for (const xml of all) expect(agrees(xml), xml).toBe(true);
  });

  it('reads text, entities and character references as sax does', () => {
    const read = [
      '<a x="&lt;1&gt;"><b/>t&amp;u<c>v</c></a>',
      `<a x='single "quoted"' y="&quot;&apos;&#65;&#x42;&#x00043;&#0068;"/>`,
      '<a>\n  <b\n\tc="1"\r\n/>caf\u00e9 \u2713 \u{1f600} &#x1F600; &#xa;</a>',
      '<a x="<not a tag>" y="a>b"/>',
      '<a x="1" x="2" _:-.9="3"/>',
      '<a>]]&gt; > </a>',
      '<a></a>',
      host('127.0.0.1', portWithScript('a &amp; &lt;b&gt; &#x41;&#66; &quot;')).trim(),
    ];
    for (const xml of read) expect(agrees(xml), xml).toBe(true);
  });

  it('leaves to sax what it does not read, whether sax takes it or not', () => {
    const left = [
      '<a>&nbsp;</a>',
      '<a>&AMP;</a>',
      '<a>&#X41;</a>',
      '<a>&#0;</a>',
      '<a>&#xD800;</a>',
      '<a>&#x110000;</a>',
      '<a>&#+65;</a>',
      '<a>&xxe;</a>',
      '<a>& b</a>',
      '<a x = "1"/>',
      '<a x=1/>',
      '<a x="1"y="2"/>',
      '< a/>',
      '<a></a >',
      '<a/ >',
      '<a><?pi x?></a>',
      '<a><!-- c --></a>',
      '<\u00e9/>',
      '<a \u00e9="1"/>',
      '<a __proto__="1"/>',
      '<a hasOwnProperty="1" b="2"/>',
      '<a><b></a>',
      '<a></a><b/>',
      '<a>',
      'text',
      '',
    ];
    for (const xml of left) expect(scanLines(xml), xml).toBeNull();
  });

  it('keeps no strings of an element once cleared, and no room for a huge one', () => {
    const scanner = new ElementScanner();
    expect(scanner.scan('<a x="v">t<b/></a>')).toBe(true);
    const used = scanner.length;
    scanner.clear();
    expect(scanner.events.slice(0, used).every((e) => e === CLOSE)).toBe(true);
    expect(scanner.scan(`<a>${'<b x="1"/>'.repeat(50_000)}</a>`)).toBe(true);
    scanner.clear();
    expect(scanner.events).toHaveLength(0);
  });

  it('never reads a mutated element otherwise than sax', () => {
    const rng = new Prng(Number(process.env.FUZZ_SEED ?? 20261121));
    const bits = [
      ...'<>/&;#x"\'= \n\t:_-.a0\u00e9',
      '&amp;',
      '&#65;',
      '&#x41;',
      '&#X41;',
      '&nbsp;',
      '&#0;',
      '</a>',
      '<a>',
      '<b/>',
      '="v"',
    ];
    const seeds = [...FIXTURES.filter((x) => x.length < 4000), ...GENERATED];
    let read = 0;
    let left = 0;
    for (let n = 0; n < 4000; n++) {
      let xml = rng.pick(seeds);
      for (let edits = rng.between(1, 3); edits > 0; edits--) {
        const at = rng.int(xml.length + 1);
        const cut = rng.chance(0.5) ? rng.between(1, 3) : 0;
        const insert = rng.chance(0.7) ? rng.pick(bits) : '';
        xml = xml.slice(0, at) + insert + xml.slice(at + cut);
      }
      if (agrees(xml)) read++;
      else left++;
    }
    // Both sides must be reached, or this compares less than it claims.
    expect(read).toBeGreaterThan(400);
    expect(left).toBeGreaterThan(400);
  });
});
