import { ScanmeshError } from '../errors.ts';
import type { HostResult } from './result.ts';

/**
 * One element's attributes in document order, flat: name, value, name, value… Of two attributes
 * with the same name the first counts, as in sax. A list rather than an object: giving every
 * element an object of its own took more time than reading the XML.
 */
export type Attributes = readonly string[];

/** An attribute's value, or '' when absent: result strings are never undefined. */
export function attr(attributes: Attributes | undefined, name: string): string {
  if (attributes === undefined) return '';
  for (let i = 0; i < attributes.length; i += 2) {
    if (attributes[i] === name) return attributes[i + 1] ?? '';
  }
  return '';
}

/** sax's attributes object as a list (sax keeps the first of two of the same name too). */
export function attributeList(record: Readonly<Record<string, string>>): Attributes {
  const list: string[] = [];
  for (const name of Object.keys(record)) list.push(name, record[name] ?? '');
  return list;
}

/** An integer attribute; null when absent, SCANMESH_BAD_XML when present but not a number. */
export function intAttr(attributes: Attributes | undefined, name: string): number | null {
  const value = numberAttr(attributes, name);
  if (value !== null && !Number.isInteger(value)) throw badNumber(attributes, name);
  return value;
}

/** A non-negative decimal attribute; null when absent. */
export function numberAttr(attributes: Attributes | undefined, name: string): number | null {
  const raw = attr(attributes, name);
  if (raw === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw badNumber(attributes, name);
  return value;
}

export function requiredInt(attributes: Attributes | undefined, name: string, element: string) {
  const value = intAttr(attributes, name);
  if (value === null) {
    throw new ScanmeshError('SCANMESH_BAD_XML', `<${element}> lacks its ${name} attribute`);
  }
  return value;
}

/** nmap says up, down, unknown or skipped; the last has no place in our vocabulary. */
export function hostState(state: string): HostResult['state'] {
  return state === 'up' || state === 'down' ? state : 'unknown';
}

function badNumber(attributes: Attributes | undefined, name: string): ScanmeshError {
  return new ScanmeshError(
    'SCANMESH_BAD_XML',
    `attribute ${name}="${attr(attributes, name)}" is not a non-negative number`,
  );
}
