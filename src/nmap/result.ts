/**
 * The typed shape of one nmap run, as the worker sends it and the master stores it.
 * Field names are ours (camelCase), values are nmap's own strings where nmap has a vocabulary
 * (states, reasons, protocols) so nothing is lost in translation.
 */

export interface ScriptOutput {
  id: string;
  output: string;
}

export interface HostAddress {
  addr: string;
  type: 'ipv4' | 'ipv6' | 'mac';
  /** Only for MAC addresses: the vendor nmap looked up from the OUI. */
  vendor: string;
}

export interface Hostname {
  name: string;
  /** nmap's source: `user` (given on the command line) or `PTR`. */
  type: string;
}

export interface PortResult {
  protocol: string;
  port: number;
  /** open | closed | filtered | unfiltered | open|filtered | closed|filtered */
  state: string;
  reason: string;
  service: string;
  product: string;
  version: string;
  extrainfo: string;
  cpe: string[];
  scripts: ScriptOutput[];
}

/** Ports nmap did not list one by one ("Not shown: 997 closed tcp ports"). */
export interface ExtraPorts {
  state: string;
  count: number;
}

export interface OsMatch {
  name: string;
  accuracy: number;
}

export interface HostResult {
  /** The primary IP address (IPv4 or IPv6): the `host` tag in InfluxDB. */
  address: string;
  addresses: HostAddress[];
  hostnames: Hostname[];
  state: 'up' | 'down' | 'unknown';
  reason: string;
  /** Round-trip estimate from nmap's `times/@srtt`, in milliseconds; null when nmap gave none. */
  latencyMs: number | null;
  ports: PortResult[];
  extraPorts: ExtraPorts[];
  os: OsMatch[];
  scripts: ScriptOutput[];
  /** Unix seconds from nmap's `host/@starttime` and `@endtime`, when present. */
  startTime: number | null;
  endTime: number | null;
}

/** One `<scaninfo>` element: which ports of which protocol a scan probed. */
export interface ScanInfo {
  type: string;
  protocol: string;
  numServices: number;
  /** nmap's range list, e.g. "1-1000,8080". */
  services: string;
}

/** What nmap says about the run before the first host. */
export interface ScanMeta {
  nmapVersion: string;
  args: string;
  /** Unix seconds from `nmaprun/@start`. */
  start: number;
  scanInfo: ScanInfo[];
}

/** What nmap says after the last host (`<runstats>`). */
export interface RunStats {
  /** Unix seconds from `finished/@time`. */
  end: number | null;
  elapsedS: number | null;
  exit: string;
  errorMessage: string;
  summary: string;
  hostsUp: number;
  hostsDown: number;
  hostsTotal: number;
}
