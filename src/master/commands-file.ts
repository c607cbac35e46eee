import { createHash } from 'node:crypto';
import { isScanmeshError, type ErrorCode } from '../errors.ts';
import { ScanmeshError } from '../errors.ts';
import { parseCommandLine } from '../nmap/command-line.ts';
import { checkArgs, type Policy } from '../nmap/policy.ts';
import type { CommandEntry } from './core/types.ts';
import { parseSchedule, type Schedule } from './schedule.ts';
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
 * A line may start with directives, in any order:
 * - `@split N` cuts the targets into N blocks, each its own job (`<parent id>.<k>`) so that N
 *   workers scan in parallel.
 * - `@every DURATION` or `@cron "EXPR"` (one per line, see schedule.ts) makes the line recurring.
 *   Its entries are the template of one run and carry `schedule: { line, spec }`; the core names
 *   each run's jobs. The canonical spec is part of the hash, so a new schedule is a new line,
 *   while lines without one keep the ids they always had.
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
      const { split, schedule, rest } = readDirectives(line);
      const { args, targets } = parseCommandLine(rest, policy);
      const key = [
        ...(schedule ? [schedule.spec] : []),
        ...(split ? [`@split ${split}`] : []),
        ...args,
      ].join('\0');
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
      const n = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, n);
      const id = `j-${hash}-${n}`;
      const recurring = schedule ? { schedule: { line: id, spec: schedule.spec } } : {};
      if (!split) {
        entries.push({ id, command: args.join(' '), args, timeoutS, ...recurring });
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
          ...recurring,
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

interface Directives {
  split: number | null;
  schedule: Schedule | null;
  rest: string;
}

function readDirectives(line: string): Directives {
  const out: Directives = { split: null, schedule: null, rest: line };
  for (;;) {
    const m = /^@(\S+)\s*(.*)$/.exec(out.rest);
    if (!m) return out;
    const [, name, after] = m as unknown as [string, string, string];
    if (name === 'split') {
      [out.split, out.rest] = readSplit(after);
    } else if (name === 'every' || name === 'cron') {
      if (out.schedule) {
        throw new ScanmeshError(
          'SCANMESH_BAD_COMMAND',
          `a line takes one schedule, but has ${out.schedule.spec} and @${name}; ` +
            `write one line per schedule`,
        );
      }
      // The argument is one word, or for @cron a quoted expression with spaces inside.
      const arg = /^("[^"]*"|\S*)\s*(.*)$/.exec(after) as unknown as [string, string, string];
      out.schedule = parseSchedule(`@${name} ${arg[1]}`);
      out.rest = arg[2];
    } else {
      throw new ScanmeshError(
        'SCANMESH_BAD_COMMAND',
        `unknown directive @${name} (known: @split N, @every DURATION, @cron "EXPR")`,
      );
    }
  }
}

function readSplit(after: string): [number, string] {
  const n = /^([0-9]+)\s+(.*)$/.exec(after);
  const count = n ? Number(n[1]) : NaN;
  if (!n || !(count >= 2 && count <= MAX_SPLIT)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_COMMAND',
      `@split takes a block count from 2 to ${MAX_SPLIT}, e.g. "@split 16 nmap -sT 10.0.0.0/20"`,
    );
  }
  return [count, n[2] as string];
}
