import type { RunStats, ScanInfo, ScanMeta } from './result.ts';
import type { ElementReader, ElementVisitor } from './xml-read.ts';
import { attr, intAttr, numberAttr, requiredInt } from './xml-values.ts';
import type { Attributes } from './xml-values.ts';

/** The attributes of an element's root, after reading all of it (a `<scaninfo>`, a start tag). */
export function readRootAttributes(read: ElementReader, xml: string): Attributes {
  let root: Attributes | null = null;
  read(xml, {
    open: (_name, attributes) => (root ??= attributes),
    close: () => undefined,
    text: () => undefined,
  });
  return root ?? [];
}

/** Reads one complete `<runstats>` element; of `<finished>` and `<hosts>` the first counts. */
export function readRunStats(read: ElementReader, xml: string): RunStats {
  const found = new Map<string, Attributes>();
  let depth = 0;
  const visitor: ElementVisitor = {
    open: (name, attributes) => {
      depth++;
      if (depth === 2 && (name === 'finished' || name === 'hosts') && !found.has(name)) {
        found.set(name, attributes);
      }
    },
    close: () => void depth--,
    text: () => undefined,
  };
  read(xml, visitor);
  const finished = found.get('finished');
  const hosts = found.get('hosts');
  return {
    end: intAttr(finished, 'time'),
    elapsedS: numberAttr(finished, 'elapsed'),
    exit: attr(finished, 'exit'),
    errorMessage: attr(finished, 'errormsg'),
    summary: attr(finished, 'summary'),
    hostsUp: intAttr(hosts, 'up') ?? 0,
    hostsDown: intAttr(hosts, 'down') ?? 0,
    hostsTotal: intAttr(hosts, 'total') ?? 0,
  };
}

/** Maps the `<nmaprun>` start tag's attributes and those of the `<scaninfo>` elements after it. */
export function mapMeta(nmaprun: Attributes, scanInfo: readonly Attributes[]): ScanMeta {
  return {
    nmapVersion: attr(nmaprun, 'version'),
    args: attr(nmaprun, 'args'),
    start: requiredInt(nmaprun, 'start', 'nmaprun'),
    scanInfo: scanInfo.map(mapScanInfo),
  };
}

function mapScanInfo(info: Attributes): ScanInfo {
  return {
    type: attr(info, 'type'),
    protocol: attr(info, 'protocol'),
    numServices: requiredInt(info, 'numservices', 'scaninfo'),
    services: attr(info, 'services'),
  };
}
