import type { HostResult, RunStats, ScanMeta } from '../nmap/result.ts';

/**
 * What a delta is made of. One Change is one fact a person acts on ("31103/tcp opened"), and
 * becomes one `port_change` point, so the kinds are few and each names what moved.
 *
 * Service details are one change per port, not one per field: its kind names the most
 * significant field that differs (service name, then product, then version, then extrainfo) and
 * before/after always hold the whole row (`open ssh OpenSSH 8.9p1 (protocol 2.0)`). A person
 * reads the row; Grafana can still pick out "version upgrades" by kind; and a service swapped
 * for another is one change, not four.
 */
export type ChangeKind =
  /** The first result for a host: no previous one to compare with. Host-level. */
  | 'baseline'
  | 'host-up'
  | 'host-down'
  /** Any state → open. */
  | 'port-opened'
  /** open → closed. */
  | 'port-closed'
  /** Any other state change, e.g. open → filtered, closed → filtered, open|filtered → closed. */
  | 'port-state'
  | 'service-changed'
  | 'product-changed'
  | 'version-changed'
  | 'extrainfo-changed'
  /** nmap's best OS guess changed. Host-level. */
  | 'os-changed'
  /** Script output changed (opt-in): per port, or host-level for host scripts. */
  | 'script-changed';

export interface Change {
  /** The host's primary address, as nmap reported it. */
  host: string;
  /** null for host-level changes. */
  port: number | null;
  /** nmap's protocol (tcp, udp, sctp, ip); null for host-level changes. */
  protocol: string | null;
  change: ChangeKind;
  /** What the earlier scan saw: for ports the row as nmap prints it (`open http SimpleHTTPServer 0.6`). */
  before: string;
  after: string;
  /** The job (or file) of the later scan. */
  job: string;
  /** The job (or file) of the earlier scan; '' for a baseline. */
  previousJob: string;
  /** The change may come from packet loss or a cut-short scan rather than the network: see noise.ts. */
  noisy: boolean;
}

export interface HostDelta {
  host: string;
  /** True when there was no previous result: `changes` then holds one `baseline` entry at most. */
  baseline: boolean;
  changes: Change[];
  /** True when any change is noisy or either scan of this host shows signs of loss or timeouts. */
  noisy: boolean;
  /** Why this comparison may have missed or invented changes, one sentence per reason. */
  noise: string[];
}

/** One scan's view of one host: what compareHost compares. */
export interface ScanSide {
  host: HostResult;
  /** The scan's header (`<scaninfo>` says which ports it probed); null when nmap wrote none. */
  meta: ScanMeta | null;
  job: string;
  /**
   * The run's `<runstats>`: null when the run ended without them (killed, cut short), which
   * marks its changes noisy. Leave it out when unknown.
   */
  stats?: RunStats | null;
}

export interface CompareOptions {
  /** Compare script output too. Off by default: many scripts print times, nonces and counters. */
  scripts?: boolean;
}
