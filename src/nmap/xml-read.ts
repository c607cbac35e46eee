import sax from 'sax';
import type { SaxParser } from 'sax';
import { ScanmeshError } from '../errors.ts';
import { CLOSE, ElementScanner, OPEN } from './xml-scan.ts';
import { attributeList, type Attributes } from './xml-values.ts';

/** What a reader is told about one element, in document order. */
export interface ElementVisitor {
  open(name: string, attributes: Attributes): void;
  close(): void;
  /** Character data directly inside the innermost open element, entities already decoded. */
  text(text: string): void;
}

/** Reads one complete element (a `<host>`, a `<runstats>`, a self-closed start tag) into a visitor. */
export type ElementReader = (xml: string, visitor: ElementVisitor) => void;

const IDLE: ElementVisitor = {
  open: () => undefined,
  close: () => undefined,
  text: () => undefined,
};

/**
 * Each element goes through the scanner in xml-scan.ts, which reads the plain XML nmap writes
 * and reports what sax would; what it does not read goes to sax. One sax parser, reused from
 * element to element: sax resets itself at `close()`. Strict, without trimming or namespaces, as
 * xml2js configured it, so the same input is well-formed or refused as before. Every failure,
 * sax's or a visitor's, is a ScanmeshError SCANMESH_BAD_XML.
 */
export function createElementReader(): ElementReader {
  const scanner = new ElementScanner();
  let visitor = IDLE;
  const start = (): SaxParser => {
    const parser = sax.parser(true, {
      trim: false,
      normalize: false,
      xmlns: false,
      position: false,
    });
    parser.onopentag = (tag) => visitor.open(tag.name, attributeList(tag.attributes));
    parser.onclosetag = () => visitor.close();
    parser.ontext = (text) => visitor.text(text);
    parser.onerror = (err) => {
      throw err;
    };
    return parser;
  };
  let parser = start();
  return (xml, to) => {
    visitor = to;
    try {
      // The scanner reports nothing before it has read the whole element, so an element it
      // gives up on reaches the visitor only once, from sax.
      if (scanner.scan(xml)) replay(scanner, to);
      else parser.write(xml).close();
    } catch (err) {
      // sax keeps its error and the half-read element: the next element starts on a fresh one.
      parser = start();
      if (err instanceof ScanmeshError) throw err;
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new ScanmeshError('SCANMESH_BAD_XML', `malformed nmap XML element: ${reason}`, {
        cause: err,
      });
    } finally {
      visitor = IDLE;
      scanner.clear();
    }
  };
}

function replay(scanner: ElementScanner, visitor: ElementVisitor): void {
  const events = scanner.events;
  for (let i = 0; i < scanner.length;) {
    const kind = events[i];
    if (kind === OPEN) {
      visitor.open(events[i + 1] as string, events[i + 2] as Attributes);
      i += 3;
    } else if (kind === CLOSE) {
      visitor.close();
      i += 1;
    } else {
      visitor.text(events[i + 1] as string);
      i += 2;
    }
  }
}
