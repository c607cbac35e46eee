import { describe, expect, it } from 'vitest';
import { ScanmeshError, isScanmeshError } from '../errors.ts';
import { createElementReader } from './xml-read.ts';
import type { ElementVisitor } from './xml-read.ts';

/** Records the events as lines: `<name a=1>`, `text`, `</>`. */
function recording(): { visitor: ElementVisitor; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    visitor: {
      open: (name, attributes) =>
        lines.push(
          `<${[name, ...Object.entries(attributes).map(([k, v]) => `${k}=${v}`)].join(' ')}>`,
        ),
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
