import type { Hostname, ScanMeta } from '../nmap/result.ts';
import { readOptions } from '../nmap/options.ts';
import { parseAddress, parseTarget, type TargetSpec } from '../nmap/targets.ts';

/**
 * Did a scan's targets include a host? nmap lists down hosts only with `-v` (or never calls them
 * down, with `-Pn`), so a host missing from a scan is down only if that scan looked for it. The
 * answer comes from the scan's own command line, read with the argument table the policy uses so
 * that option values are never taken for targets.
 */

/**
 * Options the policy refuses but that a saved XML file's args carry (every one has its
 * `-oX scan.xml`), and that say nothing about targets: nmap's output and data files (dropped with
 * their value) and output or privilege flags. Dropped before the line is read.
 */
const IGNORED_WITH_VALUE =
  /^(-o[NXGASMH]|--?(stylesheet|stats[-_]every|datadir|servicedb|versiondb))$/;
const IGNORED_FLAGS = /^--?(append[-_]output|webxml|no[-_]stylesheet|privileged)$/;

interface Targets {
  include: TargetSpec[];
  exclude: TargetSpec[];
}

/** One reading per header: the master asks once per host a run left out. */
const cache = new WeakMap<ScanMeta, Targets | null>();

function targetsOf(meta: ScanMeta): Targets | null {
  if (!cache.has(meta)) cache.set(meta, readTargets(meta));
  return cache.get(meta) ?? null;
}

function readTargets(meta: ScanMeta): Targets | null {
  try {
    // nmap joins its argv with spaces and no quoting: split, never shell-parse.
    const argv = meta.args.split(/\s+/).filter((t) => t !== '');
    // argv[0] is nmap itself, by whatever path it was run.
    if (argv[0] !== undefined && !argv[0].startsWith('-')) argv.shift();
    const kept: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const token = argv[i] ?? '';
      if (IGNORED_WITH_VALUE.test(token)) i++;
      else if (!IGNORED_FLAGS.test(token)) kept.push(token);
    }
    const { options, targets } = readOptions(kept);
    const exclude = options.find((o) => o.key === '--exclude')?.value;
    return {
      include: targets.map(parseTarget),
      exclude: (exclude?.split(',') ?? []).filter((t) => t !== '').map(parseTarget),
    };
  } catch {
    // -iL, -iR, an option our table does not know, a target we cannot read: the targets are
    // unknown, and unknown must never become "covered".
    return null;
  }
}

/** true, false, or null when a hostname target might or might not resolve to the host. */
function matches(
  spec: TargetSpec,
  addr: { family: number; value: bigint },
  names: readonly Hostname[],
): boolean | null {
  if (spec.kind === 'address') {
    return spec.set.family === addr.family && spec.set.nextAtLeast(addr.value) === addr.value;
  }
  const named = names.some((n) => n.name.toLowerCase() === spec.name.toLowerCase());
  return named && spec.bits === null ? true : null;
}

/**
 * Whether the scan's targets covered the host: true, false, or null when that cannot be told
 * (no header, targets read from a file, a hostname target that may resolve to it).
 */
export function scanCovers(
  meta: ScanMeta | null,
  host: { address: string; hostnames: readonly Hostname[] },
): boolean | null {
  if (meta === null) return null;
  const targets = targetsOf(meta);
  const addr = parseAddress(host.address);
  if (targets === null || addr === null) return null;
  const excluded = targets.exclude.map((s) => matches(s, addr, host.hostnames));
  if (excluded.includes(true)) return false;
  const included = targets.include.map((s) => matches(s, addr, host.hostnames));
  if (included.includes(true)) return excluded.includes(null) ? null : true;
  return included.includes(null) ? null : false;
}
