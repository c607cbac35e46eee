/** xml2js element parsing, as src/nmap used it before its sax readers: the differential oracle. */
import { Parser } from 'xml2js';
import { ScanmeshError } from '../../../src/errors.ts';

/**
 * One element as xml2js gives it back: attributes under `$`, text under `_`, children as arrays
 * under their tag name. Leaf elements without attributes come back as bare strings.
 */
export interface XmlNode {
  $?: Record<string, string>;
  _?: string;
  [child: string]: unknown;
}

/**
 * Parses one complete element (a `<host>`, a `<runstats>`, a self-closed start tag).
 * xml2js with `async: false` calls back before `parseString` returns; only the first callback
 * counts, because after a sax error xml2js can still report `end` with a partial tree.
 */
export function parseElement(xml: string): XmlNode {
  let settled = false;
  let failure: unknown = null;
  let value: unknown = null;
  new Parser({ async: false, explicitRoot: false, explicitArray: true, strict: true }).parseString(
    xml,
    (err: Error | null, result: unknown) => {
      if (settled) return;
      settled = true;
      failure = err;
      value = result;
    },
  );
  if (!settled || failure !== null) {
    const reason = failure instanceof Error ? failure.message.split('\n')[0] : 'no result';
    throw new ScanmeshError('SCANMESH_BAD_XML', `malformed nmap XML element: ${reason}`, {
      cause: failure,
    });
  }
  return asNode(value) ?? {};
}

function asNode(value: unknown): XmlNode | null {
  if (typeof value === 'string') return { _: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as XmlNode;
  return null;
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const list = node?.[name];
  if (!Array.isArray(list)) return [];
  return list.map(asNode).filter((child): child is XmlNode => child !== null);
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** An attribute's value, or '' when absent: result strings are never undefined. */
export function attr(node: XmlNode | undefined, name: string): string {
  return node?.$?.[name] ?? '';
}

export function text(node: XmlNode): string {
  return node._ ?? '';
}

/** An integer attribute; null when absent, SCANMESH_BAD_XML when present but not a number. */
export function intAttr(node: XmlNode | undefined, name: string): number | null {
  const value = numberAttr(node, name);
  if (value !== null && !Number.isInteger(value)) throw badNumber(node, name);
  return value;
}

/** A non-negative decimal attribute; null when absent. */
export function numberAttr(node: XmlNode | undefined, name: string): number | null {
  const raw = attr(node, name);
  if (raw === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw badNumber(node, name);
  return value;
}

function badNumber(node: XmlNode | undefined, name: string): ScanmeshError {
  return new ScanmeshError(
    'SCANMESH_BAD_XML',
    `attribute ${name}="${attr(node, name)}" is not a non-negative number`,
  );
}
