import type { ScriptOutput } from '../nmap/result.ts';

/**
 * The ids of scripts whose output differs, in id order. With the same script selection in both
 * scans (see scriptSelection) a script that printed in one and not the other changed too; with
 * different selections, only scripts present in both are compared, since the other scan may
 * simply not have run it. Outputs are compared trimmed: nmap pads some with newlines.
 */
export function changedScripts(
  before: readonly ScriptOutput[],
  after: readonly ScriptOutput[],
  sameSelection: boolean,
): string[] {
  const a = new Map(before.map((s) => [s.id, s.output.trim()]));
  const b = new Map(after.map((s) => [s.id, s.output.trim()]));
  const ids = sameSelection
    ? new Set([...a.keys(), ...b.keys()])
    : new Set([...a.keys()].filter((id) => b.has(id)));
  return [...ids].filter((id) => a.get(id) !== b.get(id)).sort();
}
