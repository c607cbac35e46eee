import type { ScanSide } from './changes.ts';
import type { PortView } from './probed.ts';
import { missingPorts, probedPorts } from './probed.ts';

/**
 * Which changes to trust less. The rule, from what nmap 7.93 actually writes:
 *
 * 1. A host nmap gave up on (`--host-timeout`): `<host timedout="true">` with no `<ports>`. Its
 *    probed ports have no state, so they are not compared at all; every change of that host
 *    (e.g. an OS guess) is marked, because the scan of it is incomplete. Seen here as an up host
 *    whose ports do not account for everything the scan probed (see missingPorts).
 * 2. A run that did not finish or reported an error: `<runstats>` missing (the worker killed
 *    nmap at the job timeout, or it crashed) or `<finished exit="error">`. Marks every change of
 *    every host of that run, when the caller passes the run's stats.
 * 3. A state that rests on silence: a port listed with reason `no-response`, or folded into a
 *    filtered / open|filtered / closed|filtered `<extraports>`. Packet loss turns an answer into
 *    silence, never silence into an answer (a SYN-ACK or RST cannot be invented), so a change can
 *    come from loss only if one of its sides is silence: open → filtered may be a dropped
 *    SYN-ACK, filtered → open may have been one last time. Such a change may well be real (a new
 *    firewall rule) but one scan cannot tell, and nmap's own "giving up on port because
 *    retransmission cap hit" warnings go to stderr only.
 * A host-level conclusion nmap drew from many probes (down after host discovery, or silent on
 * every port under -Pn) is nmap's judgement, not one lost packet, and is not marked by itself.
 */

/** Rule 1 and 2 for one side, one sentence per reason; `which` is "old" or "new". */
export function sideNoise(side: ScanSide | null, which: 'old' | 'new'): string[] {
  if (side === null) return [];
  const reasons: string[] = [];
  const { host, stats } = side;
  if (host.state === 'unknown') {
    reasons.push(`${which} scan: nmap gave no up or down verdict for this host (${host.reason})`);
  }
  const { probed, missing } = missingPorts(probedPorts(side.meta, host), host);
  if (missing > 0) {
    reasons.push(
      `${which} scan: nmap gave up on this host before it finished (host timeout): ` +
        `${missing} of ${probed} probed ports have no result`,
    );
  }
  if (stats === null) {
    reasons.push(`${which} scan: the run ended without nmap's final statistics (cut short)`);
  } else if (stats !== undefined && stats.exit !== 'success') {
    const detail = stats.errorMessage === '' ? '' : `: ${stats.errorMessage}`;
    reasons.push(`${which} scan: nmap reported exit "${stats.exit}"${detail}`);
  }
  return reasons;
}

/** Rule 3 for one port change. */
export function restsOnSilence(before: PortView, after: PortView): boolean {
  return before.silent || after.silent;
}
