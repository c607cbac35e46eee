import sax from 'sax';
import type { SaxParser } from 'sax';
import { ScanmeshError } from '../errors.ts';
import type { Attributes } from './xml-values.ts';

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
 * One sax parser, reused from element to element: sax resets itself at `close()`. Strict, without
 * trimming or namespaces, as xml2js configured it, so the same input is well-formed or refused as
 * before. Every failure, sax's or a visitor's, is a ScanmeshError SCANMESH_BAD_XML.
 */
export function createElementReader(): ElementReader {
  let visitor = IDLE;
  const start = (): SaxParser => {
    const parser = sax.parser(true, {
      trim: false,
      normalize: false,
      xmlns: false,
      position: false,
    });
    parser.onopentag = (tag) => visitor.open(tag.name, tag.attributes);
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
      parser.write(xml).close();
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
    }
  };
}
