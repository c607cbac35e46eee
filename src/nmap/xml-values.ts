import { ScanmeshError } from '../errors.ts';
import type { HostResult } from './result.ts';

/** One element's attributes as sax reports them. */
export type Attributes = Readonly<Record<string, string>>;

/** An attribute's value, or '' when absent: result strings are never undefined. */
export function attr(attributes: Attributes | undefined, name: string): string {
  return attributes?.[name] ?? '';
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
