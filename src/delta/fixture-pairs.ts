import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseNmapXml } from '../nmap/xml-stream.ts';
import type { ParsedScan } from './scans.ts';

/**
 * The pairs of real nmap 7.93 XML in test/fixtures/delta, captured by its capture.sh from scans
 * of listeners it opened and closed between the two scans of each pair.
 */
export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/delta/', import.meta.url));

export const PAIRS = [
  'open-close',
  'service',
  'ranges',
  'silence',
  'timeout',
  'gone-sn',
  'gone-pn',
] as const;

export type PairName = (typeof PAIRS)[number];

export function rawXml(file: string): string {
  return readFileSync(`${FIXTURES}${file}`, 'utf8');
}

/** A fixture as compareScans takes it, named by its file. */
export function loadScan(file: string): ParsedScan {
  return { ...parseNmapXml(rawXml(file)), job: file };
}

export function loadPair(name: PairName): [ParsedScan, ParsedScan] {
  return [loadScan(`${name}-1.xml`), loadScan(`${name}-2.xml`)];
}
