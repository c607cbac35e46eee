import { createHash } from 'node:crypto';
import { isScanmeshError, type ErrorCode } from '../errors.ts';
import { ScanmeshError } from '../errors.ts';
import { parseCommandLine } from '../nmap/command-line.ts';
import { checkArgs, type Policy } from '../nmap/policy.ts';
import type { CommandEntry } from './core/types.ts';
import { splitTargets } from './split.ts';

export interface RejectedLine {
  line: number;
  text: string;
  code: ErrorCode;
  reason: string;
}

export interface CommandsFile {
  entries: CommandEntry[];
  rejected: RejectedLine[];
}

/**
 * commands.txt → jobs. One nmap command line per line, a leading `nmap` optional, `#` comments and
 * blank lines ignored. A line the policy refuses is reported with its number and reason; the rest
 * of the file still runs.
 *
 * Job ids are stable: a hash of the checked arguments plus which occurrence of that same command
 * the line is. A restarted master therefore recognises every line it has seen, wherever the line
 * moved, and a line added twice runs twice.
 *
 * A line may start with directives: `@split N` cuts the targets into N blocks, each its own job
 * (`<parent id>.<k>`) so that N workers scan in parallel.
 */
export function parseCommandsFile(text: string, policy: Policy, timeoutS: number): CommandsFile {
  const entries: CommandEntry[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      const { split, rest } = readDirectives(line);
      const { args, targets } = parseCommandLine(rest, policy);
      const key = [...(split ? [`@split ${split}`] : []), ...args].join('\0');
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
      const n = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, n);
      const id = `j-${hash}-${n}`;
      if (!split) {
        entries.push({ id, command: args.join(' '), args, timeoutS });
        return;
      }
      const options = args.slice(0, args.length - targets.length);
      splitTargets(targets, split).forEach((block, k) => {
        const child = checkArgs([...options, ...block], policy).args;
        entries.push({
          id: `${id}.${k + 1}`,
          command: child.join(' '),
          args: child,
          timeoutS,
          parent: id,
        });
      });
    } catch (err) {
      if (!isScanmeshError(err)) throw err;
      rejected.push({ line: index + 1, text: line, code: err.code, reason: err.message });
    }
  });
  return { entries, rejected };
}

const MAX_SPLIT = 4096;

function readDirectives(line: string): { split: number | null; rest: string } {
  let rest = line;
  let split: number | null = null;
  for (;;) {
    const m = /^@(\S+)\s*(.*)$/.exec(rest);
    if (!m) return { split, rest };
    const [, name, after] = m as unknown as [string, string, string];
    if (name !== 'split') {
      throw new ScanmeshError(
        'SCANMESH_BAD_COMMAND',
        `unknown directive @${name} (known: @split N)`,
      );
    }
    const n = /^([0-9]+)\s+(.*)$/.exec(after);
    const count = n ? Number(n[1]) : NaN;
    if (!n || !(count >= 2 && count <= MAX_SPLIT)) {
      throw new ScanmeshError(
        'SCANMESH_BAD_COMMAND',
        `@split takes a block count from 2 to ${MAX_SPLIT}, e.g. "@split 16 nmap -sT 10.0.0.0/20"`,
      );
    }
    split = count;
    rest = n[2] as string;
  }
}
