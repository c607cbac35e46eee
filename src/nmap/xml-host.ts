import { ScanmeshError } from '../errors.ts';
import type { HostAddress, HostResult, PortResult, ScriptOutput } from './result.ts';
import type { ElementReader, ElementVisitor } from './xml-read.ts';
import { attr, hostState, intAttr, numberAttr, requiredInt } from './xml-values.ts';
import type { Attributes } from './xml-values.ts';

/**
 * Where an open element sits. Only these places hold elements a HostResult keeps something of;
 * everything below an OTHER element is skipped. Leaves such as `<status>` are read whole from
 * their start tag and need no place of their own.
 */
const OTHER = 0;
const HOST = 1;
const HOSTNAMES = 2;
const PORTS = 3;
const PORT = 4;
const SERVICE = 5;
const CPE = 6;
const OS = 7;
const HOSTSCRIPT = 8;

/** Reads one complete `<host>` element into a HostResult. */
export function readHost(read: ElementReader, xml: string): HostResult {
  const builder = new HostBuilder();
  read(xml, builder);
  return builder.result();
}

/**
 * Builds a HostResult from element events (the scanner's, or sax's: xml-read.ts), keeping the
 * reading the xml2js tree mapping had: of `<status>`, `<hostnames>`, `<ports>`, `<times>`, `<os>`,
 * `<hostscript>` (in a host) and of `<state>`, `<service>` (in a port) only the first counts, and
 * only direct children count.
 */
class HostBuilder implements ElementVisitor {
  private readonly places: number[] = [];
  private host: Attributes = [];
  private status: Attributes | undefined;
  private times: Attributes | undefined;
  private readonly addresses: HostAddress[] = [];
  private readonly hostnames: HostResult['hostnames'] = [];
  private readonly ports: PortResult[] = [];
  private readonly extraPorts: HostResult['extraPorts'] = [];
  private readonly os: HostResult['os'] = [];
  private readonly scripts: ScriptOutput[] = [];
  /** Bits (firstInHostBit) of the elements already read in this host. */
  private seen = 0;
  private port: PortResult | null = null;
  /** STATE and SERVICE bits of the elements already read in this port. */
  private portSeen = 0;
  private cpe = { text: '', attributes: false, children: false };

  open(name: string, attributes: Attributes): void {
    this.places.push(this.place(name, attributes));
  }

  close(): void {
    if (this.places.pop() === CPE) this.port?.cpe.push(cpeText(this.cpe));
  }

  text(text: string): void {
    if (this.places[this.places.length - 1] === CPE) this.cpe.text += text;
  }

  result(): HostResult {
    const primary = this.addresses.find((a) => a.type !== 'mac');
    if (primary === undefined) {
      throw new ScanmeshError('SCANMESH_BAD_XML', '<host> without an IPv4 or IPv6 address');
    }
    const srttUs = numberAttr(this.times, 'srtt');
    return {
      address: primary.addr,
      addresses: this.addresses,
      hostnames: this.hostnames,
      state: hostState(attr(this.status, 'state')),
      reason: attr(this.status, 'reason'),
      latencyMs: srttUs === null ? null : srttUs / 1000,
      ports: this.ports,
      extraPorts: this.extraPorts,
      os: this.os,
      scripts: this.scripts,
      startTime: intAttr(this.host, 'starttime'),
      endTime: intAttr(this.host, 'endtime'),
    };
  }

  private place(name: string, attributes: Attributes): number {
    switch (this.places[this.places.length - 1]) {
      case undefined:
        this.host = attributes;
        return HOST;
      case HOST:
        return this.inHost(name, attributes);
      case HOSTNAMES:
        if (name === 'hostname') {
          this.hostnames.push({ name: attr(attributes, 'name'), type: attr(attributes, 'type') });
        }
        return OTHER;
      case PORTS:
        return this.inPorts(name, attributes);
      case PORT:
        return this.inPort(name, attributes);
      case SERVICE:
        if (name !== 'cpe') return OTHER;
        this.cpe = { text: '', attributes: attributes.length > 0, children: false };
        return CPE;
      case CPE:
        this.cpe.children = true;
        return OTHER;
      case OS:
        if (name === 'osmatch') {
          const accuracy = requiredInt(attributes, 'accuracy', 'osmatch');
          this.os.push({ name: attr(attributes, 'name'), accuracy });
        }
        return OTHER;
      case HOSTSCRIPT:
        if (name === 'script') this.scripts.push(script(attributes));
        return OTHER;
      default:
        return OTHER;
    }
  }

  private inHost(name: string, attributes: Attributes): number {
    if (name === 'address') {
      this.addresses.push(address(attributes));
      return OTHER;
    }
    const bit = firstInHostBit(name);
    if (bit === 0 || (this.seen & bit) !== 0) return OTHER;
    this.seen |= bit;
    if (name === 'status') this.status = attributes;
    else if (name === 'times') this.times = attributes;
    else if (name === 'hostnames') return HOSTNAMES;
    else if (name === 'ports') return PORTS;
    else if (name === 'os') return OS;
    else if (name === 'hostscript') return HOSTSCRIPT;
    return OTHER;
  }

  private inPorts(name: string, attributes: Attributes): number {
    if (name === 'extraports') {
      const count = requiredInt(attributes, 'count', 'extraports');
      this.extraPorts.push({ state: attr(attributes, 'state'), count });
      return OTHER;
    }
    if (name !== 'port') return OTHER;
    this.port = port(attributes);
    this.ports.push(this.port);
    this.portSeen = 0;
    return PORT;
  }

  private inPort(name: string, attributes: Attributes): number {
    const port = this.port;
    if (port === null) return OTHER;
    if (name === 'script') {
      port.scripts.push(script(attributes));
      return OTHER;
    }
    const bit = name === 'state' ? STATE : name === 'service' ? SERVICE_SEEN : 0;
    if (bit === 0 || (this.portSeen & bit) !== 0) return OTHER;
    this.portSeen |= bit;
    if (name === 'state') {
      port.state = attr(attributes, 'state');
      port.reason = attr(attributes, 'reason');
      return OTHER;
    }
    port.service = attr(attributes, 'name');
    port.product = attr(attributes, 'product');
    port.version = attr(attributes, 'version');
    port.extrainfo = attr(attributes, 'extrainfo');
    return SERVICE;
  }
}

/** The elements of a host of which only the first counts, each with its bit in `seen`; else 0. */
function firstInHostBit(name: string): number {
  switch (name) {
    case 'status':
      return 1;
    case 'times':
      return 2;
    case 'hostnames':
      return 4;
    case 'ports':
      return 8;
    case 'os':
      return 16;
    case 'hostscript':
      return 32;
    default:
      return 0;
  }
}

/** The elements of a port of which only the first counts: their bits in `portSeen`. */
const STATE = 1;
const SERVICE_SEEN = 2;

function address(attributes: Attributes): HostAddress {
  const type = attr(attributes, 'addrtype');
  if (type !== 'ipv4' && type !== 'ipv6' && type !== 'mac') {
    throw new ScanmeshError('SCANMESH_BAD_XML', `unknown address type "${type}"`);
  }
  return { addr: attr(attributes, 'addr'), type, vendor: attr(attributes, 'vendor') };
}

function port(attributes: Attributes): PortResult {
  const portId = requiredInt(attributes, 'portid', 'port');
  if (portId > 65_535) throw new ScanmeshError('SCANMESH_BAD_XML', `port ${portId} out of range`);
  return {
    protocol: attr(attributes, 'protocol'),
    port: portId,
    state: '',
    reason: '',
    service: '',
    product: '',
    version: '',
    extrainfo: '',
    cpe: [],
    scripts: [],
  };
}

function script(attributes: Attributes): ScriptOutput {
  return { id: attr(attributes, 'id'), output: attr(attributes, 'output') };
}

/**
 * A `<cpe>`'s text as the xml2js tree gave it: all of it, untrimmed, except that text made only of
 * white space is dropped when the element also has attributes or children.
 */
function cpeText(cpe: { text: string; attributes: boolean; children: boolean }): string {
  return (cpe.attributes || cpe.children) && /^\s*$/.test(cpe.text) ? '' : cpe.text;
}
