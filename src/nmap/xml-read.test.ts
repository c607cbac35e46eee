import { describe, expect, it } from 'vitest';
import { ScanmeshError, isScanmeshError } from '../errors.ts';
import { createElementReader } from './xml-read.ts';
import type { ElementVisitor } from './xml-read.ts';
import { attr, type Attributes } from './xml-values.ts';

/** Records the events as lines: `<name a=1>`, `text`, `</>`. */
function recording(): { visitor: ElementVisitor; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    visitor: {
      open: (name, attributes) => {
        const pairs: string[] = [];
        for (let i = 0; i < attributes.length; i += 2)
          pairs.push(`${attributes[i]}=${attributes[i + 1]}`);
        lines.push(`<${[name, ...pairs].join(' ')}>`);
      },
      close: () => lines.push('</>'),
      text: (text) => lines.push(JSON.stringify(text)),
    },
  };
}

function thrown(run: () => void): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return null;
}

describe('createElementReader', () => {
  it('reports elements, decoded attributes and text in document order', () => {
    const r = recording();
    createElementReader()('<a x="&lt;1&gt;"><b/>t&amp;u<c>v</c></a>', r.visitor);
    expect(r.lines).toEqual(['<a x=<1>>', '<b>', '</>', '"t&u"', '<c>', '"v"', '</>', '</>']);
  });

  it('reads the same through its scanner and through sax, where the scanner gives up', () => {
    const read = createElementReader();
    const attrsOf = (xml: string) => {
      const found: Attributes[] = [];
      read(xml, { open: (_n, a) => found.push(a), close: () => undefined, text: () => undefined });
      return found.map((a) => [attr(a, 'x'), attr(a, 'y'), attr(a, 'z')]);
    };
    // Space around `=` is left to sax; the first of two attributes of a name counts either way.
    const scanned = attrsOf('<a x="1" y="&amp;" x="2"><b z="3"/></a>');
    expect(scanned).toEqual([
      ['1', '&', ''],
      ['', '', '3'],
    ]);
    expect(attrsOf('<a x="1" y = "&amp;" x="2"><b z="3"/></a>')).toEqual(scanned);
  });

  it('refuses malformed XML as SCANMESH_BAD_XML and reads the next element afresh', () => {
    const read = createElementReader();
    for (const bad of ['<a><b></a>', '<a x=1/>', '<a>&xxe;</a>', '<a>', 'text']) {
      expect(
        isScanmeshError(
          thrown(() => read(bad, recording().visitor)),
          'SCANMESH_BAD_XML',
        ),
        bad,
      ).toBe(true);
      const r = recording();
      read('<ok/>', r.visitor);
      expect(r.lines).toEqual(['<ok>', '</>']);
    }
  });

  it("passes a visitor's ScanmeshError on as it is and wraps anything else", () => {
    const read = createElementReader();
    const own = new ScanmeshError('SCANMESH_BAD_XML', 'port 70000 out of range');
    const throwing = (err: unknown): ElementVisitor => ({
      open: () => {
        throw err;
      },
      close: () => undefined,
      text: () => undefined,
    });
    expect(thrown(() => read('<a/>', throwing(own)))).toBe(own);
    const wrapped = thrown(() => read('<a/>', throwing(new TypeError('boom'))));
    expect(isScanmeshError(wrapped, 'SCANMESH_BAD_XML')).toBe(true);
    expect((wrapped as Error).cause).toBeInstanceOf(TypeError);
  });
});
