import type { HostResult, OsMatch, PortResult, ScriptOutput } from '../nmap/result.ts';
import type { PortView } from './probed.ts';

/**
 * The before/after texts of changes. Port rows read like nmap's own port table (and ndiff's):
 * `open http SimpleHTTPServer 0.6 (Python 3.11.7)`, so a person reads a change as a diff line.
 */

/** `http SimpleHTTPServer 0.6 (Python 3.11.7)`: the SERVICE and VERSION columns. */
export function serviceText(p: PortResult): string {
  const extra = p.extrainfo === '' ? '' : `(${p.extrainfo})`;
  return [p.service, p.product, p.version, extra].filter((s) => s !== '').join(' ');
}

/** A listed port's row without its number; an unlisted one's possible states (`closed or filtered`). */
export function viewText(view: PortView): string {
  if (view.listed === null) return view.states.join(' or ');
  return [view.listed.state, serviceText(view.listed)].filter((s) => s !== '').join(' ');
}

/** `up; open: 22/tcp ssh, 80/tcp http` — what a baseline or a host coming up shows. */
export function hostSummary(host: HostResult): string {
  const open = host.ports
    .filter((p) => p.state === 'open')
    .map((p) => [`${p.port}/${p.protocol}`, p.service].filter((s) => s !== '').join(' '));
  return open.length === 0 ? 'up; no open ports' : `up; open: ${open.join(', ')}`;
}

/** The most accurate OS match's name (nmap lists them best first; do not rely on it), or ''. */
export function bestOs(matches: readonly OsMatch[]): string {
  let best: OsMatch | undefined;
  for (const m of matches) if (best === undefined || m.accuracy > best.accuracy) best = m;
  return best?.name ?? '';
}

/** Script outputs as `id: output` lines, in id order, for the scripts named. */
export function scriptsText(scripts: readonly ScriptOutput[], ids: readonly string[]): string {
  return ids
    .map((id) => {
      const s = scripts.find((x) => x.id === id);
      return s === undefined ? `${id}: (none)` : `${id}: ${s.output.trim()}`;
    })
    .join('\n');
}
