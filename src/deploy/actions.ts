/**
 * What an installer does, as data: a plan is a list of these, built by a pure planner from the
 * options and a few facts about the host, then either printed (--dry-run) or applied (apply.ts).
 * Keeping the plan as data is what lets the tests check an install without performing one.
 */
export type Action =
  | { kind: 'run'; argv: string[]; why: string }
  | { kind: 'dir'; path: string; mode: number; owner: string; group: string; why: string }
  | {
      kind: 'file';
      path: string;
      content: string;
      mode: number;
      owner: string;
      group: string;
      why: string;
      /** Shown instead of `content` (a secrets file prints with its values masked). */
      display?: string;
    }
  /** Something already in place, said so the output explains why a step is missing. */
  | { kind: 'keep'; what: string; why: string };

const octal = (mode: number) => `0${mode.toString(8)}`;

/** The one-line heading of an action. */
export function headline(a: Action): string {
  switch (a.kind) {
    case 'run':
      return `run   ${a.argv.map(shellQuote).join(' ')}`;
    case 'dir':
      return `dir   ${a.path} (${a.owner}:${a.group} ${octal(a.mode)})`;
    case 'file':
      return `file  ${a.path} (${a.owner}:${a.group} ${octal(a.mode)})`;
    case 'keep':
      return `keep  ${a.what}`;
  }
}

/** An action in full, as --dry-run prints it: heading, reason, and a file's content. */
export function describe(a: Action): string {
  const lines = [headline(a), `      why: ${a.why}`];
  if (a.kind === 'file') {
    const body = (a.display ?? a.content).replace(/\n$/, '');
    lines.push(...body.split('\n').map((l) => `      | ${l}`));
  }
  return lines.join('\n');
}

/** For printing only: the installer runs commands with execFile, never through a shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
