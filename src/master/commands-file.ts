import { createHash } from 'node:crypto';
import { isScanmeshError, type ErrorCode } from '../errors.ts';
import { parseCommandLine } from '../nmap/command-line.ts';
import type { Policy } from '../nmap/policy.ts';
import type { CommandEntry } from './core/types.ts';

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
      const { args } = parseCommandLine(line, policy);
      const hash = createHash('sha256').update(args.join('\0')).digest('hex').slice(0, 12);
      const n = (seen.get(hash) ?? 0) + 1;
      seen.set(hash, n);
      entries.push({ id: `j-${hash}-${n}`, command: args.join(' '), args, timeoutS });
    } catch (err) {
      if (!isScanmeshError(err)) throw err;
      rejected.push({ line: index + 1, text: line, code: err.code, reason: err.message });
    }
  });
  return { entries, rejected };
}
