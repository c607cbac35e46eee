import type { RunStats, ScanMeta } from '../nmap/result.ts';
import type { Change, CompareOptions, HostDelta, ScanSide } from './changes.ts';
import { comparePorts, type Draft } from './compare-ports.ts';
import { scanCovers } from './coverage.ts';
import { bestOs, hostSummary, scriptsText } from './describe.ts';
import { absentHost, seenState } from './host-state.ts';
import { sideNoise } from './noise.ts';
import { scriptSelection } from './scan-args.ts';
import { changedScripts } from './scripts.ts';

/**
 * A host's new result against its previous one (`prev`, the same host, null when there is none).
 * Pure: the master calls it as each host result is stored, `scanmesh diff` for each host of two
 * files. Rules:
 * - no previous result: a baseline, one `baseline` change summing up the host if it is up, and
 *   none if it is down (a sweep's hundreds of absent addresses are not news);
 * - up → down, down → up: `host-down` / `host-up`, and nothing else (ports were not scanned on
 *   the down side);
 * - up in both: ports both scans probed, then the OS guess, then (opt-in) host scripts.
 */
export function compareHost(
  prev: ScanSide | null,
  next: ScanSide,
  options: CompareOptions = {},
): HostDelta {
  const noise = [...sideNoise(prev, 'old'), ...sideNoise(next, 'new')];
  const hostNoisy = noise.length > 0;
  const toChange = (d: Draft): Change => ({
    host: next.host.address,
    port: d.port,
    protocol: d.protocol,
    change: d.change,
    before: d.before,
    after: d.after,
    job: next.job,
    previousJob: prev?.job ?? '',
    noisy: hostNoisy || d.silent,
  });
  const drafts = prev === null ? baselineDrafts(next) : hostDrafts(prev, next, options);
  const changes = drafts.map(toChange);
  return {
    host: next.host.address,
    baseline: prev === null,
    changes,
    noisy: hostNoisy || changes.some((c) => c.noisy),
    noise,
  };
}

/** What the master knows of a finished run without the host in it. */
export interface RunSide {
  meta: ScanMeta | null;
  job: string;
  /** null when the run ended without `<runstats>`. */
  stats: RunStats | null;
}

/**
 * A host that has a previous result but is missing from a newer run. nmap leaves out hosts it
 * found down unless run with -v, so a missing host is down only when the run finished
 * (`<finished exit="success">`: a run cut short never reached some hosts) and its targets covered
 * the host (see scanCovers). Otherwise null: that run says nothing about the host.
 */
export function compareAbsentHost(
  prev: ScanSide,
  next: RunSide,
  options: CompareOptions = {},
): HostDelta | null {
  if (next.stats === null || next.stats.exit !== 'success') return null;
  if (scanCovers(next.meta, prev.host) !== true) return null;
  return compareHost(prev, { ...next, host: absentHost(prev.host.address) }, options);
}

function hostLevel(change: Draft['change'], before: string, after: string): Draft {
  return { port: null, protocol: null, change, before, after, silent: false };
}

function baselineDrafts(next: ScanSide): Draft[] {
  const seen = seenState(next.host);
  return seen.state === 'up' ? [hostLevel('baseline', '', hostSummary(next.host))] : [];
}

function hostDrafts(prev: ScanSide, next: ScanSide, options: CompareOptions): Draft[] {
  const a = seenState(prev.host);
  const b = seenState(next.host);
  if (a.state === 'up' && b.state === 'down') {
    return [hostLevel('host-down', 'up', `down (${b.why})`)];
  }
  if (a.state === 'down' && b.state === 'up') {
    return [hostLevel('host-up', `down (${a.why})`, hostSummary(next.host))];
  }
  if (a.state !== 'up' || b.state !== 'up') return [];
  const drafts = comparePorts(prev, next, options);
  // An OS guess missing on one side means nmap could not tell then (too few open/closed ports,
  // or no -O), not that the OS changed.
  const osA = bestOs(prev.host.os);
  const osB = bestOs(next.host.os);
  if (osA !== '' && osB !== '' && osA !== osB) drafts.push(hostLevel('os-changed', osA, osB));
  if (options.scripts) {
    const selection = scriptSelection(prev.meta);
    const same = selection !== null && selection === scriptSelection(next.meta);
    const ids = changedScripts(prev.host.scripts, next.host.scripts, same);
    if (ids.length > 0) {
      const before = scriptsText(prev.host.scripts, ids);
      drafts.push(hostLevel('script-changed', before, scriptsText(next.host.scripts, ids)));
    }
  }
  return drafts;
}
