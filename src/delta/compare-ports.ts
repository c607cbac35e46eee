import type { PortResult } from '../nmap/result.ts';
import type { ChangeKind, CompareOptions, ScanSide } from './changes.ts';
import { scriptsText, viewText } from './describe.ts';
import { restsOnSilence } from './noise.ts';
import { inRanges } from './port-list.ts';
import { listedIndex, missingPorts, portKey, probedPorts, viewPort } from './probed.ts';
import type { PortView } from './probed.ts';
import { ranVersionDetection, scriptSelection } from './scan-args.ts';
import { changedScripts } from './scripts.ts';

/** A change before it is tied to a host and jobs; `silent` feeds the noise mark. */
export interface Draft {
  port: number | null;
  protocol: string | null;
  change: ChangeKind;
  before: string;
  after: string;
  silent: boolean;
}

/**
 * The port changes between two results of a host that was up in both. Only ports listed by
 * either scan are walked: a port neither listed sits in both scans' `<extraports>`, and a change
 * there (997 closed → 997 filtered) is a change of the host's firewall, not of a port; like
 * ndiff, we do not report it port by port. Each walked port must be probed by both scans and have
 * a known state in both (see viewPort). At most one state change or one service change per port,
 * plus at most one script change: so (port, protocol, kind) never repeats within a host.
 */
export function comparePorts(prev: ScanSide, next: ScanSide, options: CompareOptions): Draft[] {
  const probedA = probedPorts(prev.meta, prev.host);
  const probedB = probedPorts(next.meta, next.host);
  const completeA = missingPorts(probedA, prev.host).missing === 0;
  const completeB = missingPorts(probedB, next.host).missing === 0;
  const listedA = listedIndex(prev.host);
  const listedB = listedIndex(next.host);
  const services =
    ranVersionDetection(prev.meta) !== false && ranVersionDetection(next.meta) !== false;
  const selection = scriptSelection(prev.meta);
  const sameScripts = selection !== null && selection === scriptSelection(next.meta);
  const drafts: Draft[] = [];
  for (const { protocol, port } of walkOrder([...prev.host.ports, ...next.host.ports])) {
    if (!inRanges(probedA.get(protocol) ?? [], port)) continue;
    if (!inRanges(probedB.get(protocol) ?? [], port)) continue;
    const key = portKey(protocol, port);
    const a = viewPort(prev.host, listedA.get(key), completeA);
    const b = viewPort(next.host, listedB.get(key), completeB);
    if (a === null || b === null) continue;
    const at = (change: ChangeKind, before: string, after: string): Draft => ({
      port,
      protocol,
      change,
      before,
      after,
      silent: restsOnSilence(a, b),
    });
    const moved = stateChange(a, b);
    if (moved !== null) {
      drafts.push(at(moved, viewText(a), viewText(b)));
      continue;
    }
    if (a.listed === null || b.listed === null) continue;
    const service =
      services && a.listed.state === 'open' ? serviceChange(a.listed, b.listed) : null;
    if (service !== null) drafts.push(at(service, viewText(a), viewText(b)));
    if (options.scripts) {
      const ids = changedScripts(a.listed.scripts, b.listed.scripts, sameScripts);
      if (ids.length > 0) {
        drafts.push(
          at(
            'script-changed',
            scriptsText(a.listed.scripts, ids),
            scriptsText(b.listed.scripts, ids),
          ),
        );
      }
    }
  }
  return drafts;
}

/**
 * The kind of a state change, or null when the states agree or may agree (an unlisted port that
 * is "closed or filtered" against a listed closed one tells nothing).
 */
export function stateChange(a: PortView, b: PortView): ChangeKind | null {
  if (a.states.some((s) => b.states.includes(s))) return null;
  if (b.states.length === 1 && b.states[0] === 'open') return 'port-opened';
  if (a.states.length === 1 && a.states[0] === 'open' && b.states.every((s) => s === 'closed')) {
    return 'port-closed';
  }
  return 'port-state';
}

/** The most significant service field that differs; see changes.ts. */
export function serviceChange(a: PortResult, b: PortResult): ChangeKind | null {
  if (a.service !== b.service) return 'service-changed';
  if (a.product !== b.product) return 'product-changed';
  if (a.version !== b.version) return 'version-changed';
  if (a.extrainfo !== b.extrainfo) return 'extrainfo-changed';
  return null;
}

/** Each (protocol, port) once, by protocol then port number. */
function walkOrder(ports: readonly PortResult[]): { protocol: string; port: number }[] {
  const seen = new Map<string, { protocol: string; port: number }>();
  for (const p of ports)
    seen.set(portKey(p.protocol, p.port), { protocol: p.protocol, port: p.port });
  return [...seen.values()].sort((x, y) =>
    x.protocol === y.protocol ? x.port - y.port : x.protocol < y.protocol ? -1 : 1,
  );
}
