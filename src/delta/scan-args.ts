import type { ScanMeta } from '../nmap/result.ts';

/**
 * What a scan's own command line (`<nmaprun args>`) says it looked at, beyond the port ranges in
 * `<scaninfo>`: whether it asked services for versions, and which scripts it ran. Two results are
 * compared on a point only when both scans looked at it.
 */

/** nmap joins its argv with spaces, so splitting on spaces gives it back (bar spaces in values). */
function argTokens(meta: ScanMeta): string[] {
  return meta.args.split(/\s+/).filter((t) => t !== '');
}

/**
 * True when the scan ran version detection (`-sV`, also inside combined letters like `-sSV`,
 * `-sR` its old alias, or `-A`), false when not, null without a header. Without it nmap fills the
 * service name from its port table, so comparing it with a probed name would report a change
 * that is only a difference in options.
 */
export function ranVersionDetection(meta: ScanMeta | null): boolean | null {
  if (meta === null) return null;
  return argTokens(meta).some((t) => t === '-A' || /^-s[A-Za-z]*[VR]/.test(t));
}

/**
 * The options that choose scripts, normalised, or null without a header. Two scans with the same
 * selection ran the same scripts, so a script present in one and absent in the other changed;
 * with different selections only scripts present in both are compared.
 */
export function scriptSelection(meta: ScanMeta | null): string | null {
  if (meta === null) return null;
  const tokens = argTokens(meta);
  const picked: string[] = [];
  tokens.forEach((t, i) => {
    if (t === '-A' || /^-s[A-Za-z]*[CV]/.test(t)) picked.push(t);
    else if (/^--?script(-args)?$/.test(t)) picked.push(`${t}=${tokens[i + 1] ?? ''}`);
    else if (/^--?script(-args)?=/.test(t)) picked.push(t);
  });
  return picked.sort().join(' ');
}
