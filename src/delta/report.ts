import type { Change, HostDelta } from './changes.ts';
import type { ScanDelta, ScanHeader } from './scans.ts';

/**
 * Deltas for people (ndiff's layout: `-` what the old scan saw, `+` what the new one sees, a
 * space for context) and for machines (JSON). `!` lines are ours: why a comparison is noisy or a
 * host was not compared. A noisy change ends its `+` line with `[noisy]`.
 */

export const NOISY_MARK = '[noisy]';

export interface DeltaSummary {
  hostsCompared: number;
  hostsChanged: number;
  changes: number;
  noisyChanges: number;
  skipped: number;
}

export function summarize(delta: ScanDelta): DeltaSummary {
  return summarizeHosts(delta.hosts, delta.hosts.length, delta.skipped.length);
}

/** Counts over `hosts`; `compared` is larger when hosts without changes were left out of them. */
export function summarizeHosts(
  hosts: readonly HostDelta[],
  compared: number,
  skipped = 0,
): DeltaSummary {
  const changes = hosts.flatMap((h) => h.changes);
  return {
    hostsCompared: compared,
    hostsChanged: hosts.filter((h) => h.changes.length > 0).length,
    changes: changes.length,
    noisyChanges: changes.filter((c) => c.noisy).length,
    skipped,
  };
}

/** The JSON `scanmesh diff --json` prints: hosts without changes or noise are left out. */
export function scanDeltaJson(delta: ScanDelta): {
  old: ScanHeader;
  new: ScanHeader;
  summary: DeltaSummary;
  hosts: HostDelta[];
  skipped: ScanDelta['skipped'];
} {
  return {
    old: delta.old,
    new: delta.new,
    summary: summarize(delta),
    hosts: delta.hosts.filter(shown),
    skipped: delta.skipped,
  };
}

export function renderScanDelta(delta: ScanDelta): string {
  const lines = [headerLine('-', delta.old), headerLine('+', delta.new), ''];
  lines.push(...renderHostBlocks(delta.hosts));
  for (const s of delta.skipped) lines.push(`! ${s.host}: not compared: ${s.reason}`);
  lines.push(summaryLine(summarize(delta)));
  return `${lines.join('\n')}\n`;
}

/** Each host that changed or looks noisy, as renderHostDelta writes it, a blank line after each. */
export function renderHostBlocks(hosts: readonly HostDelta[]): string[] {
  return hosts.filter(shown).flatMap((h) => [...renderHostDelta(h), '']);
}

/** The report's last line. */
export function summaryLine(sum: DeltaSummary): string {
  return (
    `${plural(sum.hostsCompared, 'host')} compared: ${sum.hostsChanged} changed, ` +
    `${plural(sum.changes, 'change')} (${sum.noisyChanges} noisy)` +
    (sum.skipped > 0 ? `, ${sum.skipped} not compared` : '')
  );
}

/** One host's lines, also for a single-host report. */
export function renderHostDelta(delta: HostDelta): string[] {
  const lines = [` ${delta.host}:`];
  for (const reason of delta.noise) lines.push(`! ${reason}`);
  for (const change of delta.changes) lines.push(...changeLines(change));
  return lines;
}

function changeLines(c: Change): string[] {
  const mark = (line: string): string => (c.noisy ? `${line}  ${NOISY_MARK}` : line);
  switch (c.change) {
    case 'baseline':
      return [mark(`+Baseline (first result for this host): ${c.after}`)];
    case 'host-up':
    case 'host-down':
      return [`-Host is ${c.before}.`, mark(`+Host is ${c.after}.`)];
    case 'os-changed':
      return [`-OS: ${c.before}`, mark(`+OS: ${c.after}`)];
    default: {
      const label = c.port === null ? '' : `${c.port}/${c.protocol ?? ''} `;
      if (c.change === 'script-changed') {
        const after = block('+', `${label}script `, c.after);
        after[after.length - 1] = mark(after[after.length - 1] ?? '');
        return [...block('-', `${label}script `, c.before), ...after];
      }
      return [`-${label}${c.before}`, mark(`+${label}${c.after}`)];
    }
  }
}

/** Multi-line script output, each line carrying its sign so the block reads as a diff. */
function block(sign: string, label: string, text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => `${sign}${i === 0 ? label : ' '.repeat(label.length)}|${line}`);
}

function headerLine(sign: string, h: ScanHeader): string {
  const version = h.nmapVersion === '' ? 'nmap' : `Nmap ${h.nmapVersion}`;
  const at = h.start === null ? '' : ` at ${utc(h.start)}`;
  const args = h.args === '' ? '' : ` as: ${h.args}`;
  return `${sign}${version} scan ${h.job}${at}${args}`;
}

/** `2026-11-21 13:48:17 UTC`: nmap's start second, readable and zone-free. */
export function utc(unixS: number): string {
  return `${new Date(unixS * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Whether a report shows the host: it changed, or its comparison may have missed something. */
export function shown(h: HostDelta): boolean {
  return h.changes.length > 0 || h.noisy;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
