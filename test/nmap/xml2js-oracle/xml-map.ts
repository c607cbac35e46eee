/** The xml2js tree mapping the stream parser used before its sax readers: the differential oracle. */
import { ScanmeshError } from '../../../src/errors.ts';
import type {
  HostAddress,
  HostResult,
  PortResult,
  RunStats,
  ScanInfo,
  ScanMeta,
  ScriptOutput,
} from '../../../src/nmap/result.ts';
import { attr, child, children, intAttr, numberAttr, text } from './xml-node.ts';
import type { XmlNode } from './xml-node.ts';

/** Maps one parsed `<host>` element. */
export function mapHost(host: XmlNode): HostResult {
  const status = child(host, 'status');
  const addresses = children(host, 'address').map(mapAddress);
  const primary = addresses.find((a) => a.type !== 'mac');
  if (primary === undefined) {
    throw new ScanmeshError('SCANMESH_BAD_XML', '<host> without an IPv4 or IPv6 address');
  }
  const ports = child(host, 'ports');
  const srttUs = numberAttr(child(host, 'times'), 'srtt');
  return {
    address: primary.addr,
    addresses,
    hostnames: children(child(host, 'hostnames'), 'hostname').map((h) => ({
      name: attr(h, 'name'),
      type: attr(h, 'type'),
    })),
    state: hostState(attr(status, 'state')),
    reason: attr(status, 'reason'),
    latencyMs: srttUs === null ? null : srttUs / 1000,
    ports: children(ports, 'port').map(mapPort),
    extraPorts: children(ports, 'extraports').map((e) => ({
      state: attr(e, 'state'),
      count: requiredInt(e, 'count', 'extraports'),
    })),
    os: children(child(host, 'os'), 'osmatch').map((m) => ({
      name: attr(m, 'name'),
      accuracy: requiredInt(m, 'accuracy', 'osmatch'),
    })),
    scripts: scripts(child(host, 'hostscript')),
    startTime: intAttr(host, 'starttime'),
    endTime: intAttr(host, 'endtime'),
  };
}

/** Maps the `<nmaprun>` start tag and the `<scaninfo>` elements that follow it. */
export function mapMeta(nmaprun: XmlNode, scanInfo: XmlNode[]): ScanMeta {
  return {
    nmapVersion: attr(nmaprun, 'version'),
    args: attr(nmaprun, 'args'),
    start: requiredInt(nmaprun, 'start', 'nmaprun'),
    scanInfo: scanInfo.map(mapScanInfo),
  };
}

export function mapRunStats(runstats: XmlNode): RunStats {
  const finished = child(runstats, 'finished');
  const hosts = child(runstats, 'hosts');
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

function mapScanInfo(info: XmlNode): ScanInfo {
  return {
    type: attr(info, 'type'),
    protocol: attr(info, 'protocol'),
    numServices: requiredInt(info, 'numservices', 'scaninfo'),
    services: attr(info, 'services'),
  };
}

function mapAddress(address: XmlNode): HostAddress {
  const type = attr(address, 'addrtype');
  if (type !== 'ipv4' && type !== 'ipv6' && type !== 'mac') {
    throw new ScanmeshError('SCANMESH_BAD_XML', `unknown address type "${type}"`);
  }
  return { addr: attr(address, 'addr'), type, vendor: attr(address, 'vendor') };
}

function mapPort(port: XmlNode): PortResult {
  const state = child(port, 'state');
  const service = child(port, 'service');
  const portId = requiredInt(port, 'portid', 'port');
  if (portId > 65_535) throw new ScanmeshError('SCANMESH_BAD_XML', `port ${portId} out of range`);
  return {
    protocol: attr(port, 'protocol'),
    port: portId,
    state: attr(state, 'state'),
    reason: attr(state, 'reason'),
    service: attr(service, 'name'),
    product: attr(service, 'product'),
    version: attr(service, 'version'),
    extrainfo: attr(service, 'extrainfo'),
    cpe: children(service, 'cpe').map(text),
    scripts: scripts(port),
  };
}

function scripts(parent: XmlNode | undefined): ScriptOutput[] {
  return children(parent, 'script').map((s) => ({ id: attr(s, 'id'), output: attr(s, 'output') }));
}

/** nmap says up, down, unknown or skipped; the last has no place in our vocabulary. */
function hostState(state: string): HostResult['state'] {
  return state === 'up' || state === 'down' ? state : 'unknown';
}

function requiredInt(node: XmlNode, name: string, element: string): number {
  const value = intAttr(node, name);
  if (value === null) {
    throw new ScanmeshError('SCANMESH_BAD_XML', `<${element}> lacks its ${name} attribute`);
  }
  return value;
}
