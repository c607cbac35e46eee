import { describe, expect, it } from 'vitest';
import { checkArgs, createPolicy } from '../nmap/policy.ts';
import { parseCommandsFile } from './commands-file.ts';

const file = [
  '# rate options of every kind',
  'nmap -sT -p 22 127.0.0.1',
  '-sT --max-rate 5000 -p 80 127.0.0.1',
  '-sT --max-rate 50 -p 443 127.0.0.1',
  '-sT --min-rate 10 -p 8080 127.0.0.1',
  '-sT --min-rate 999 -p 8443 127.0.0.1',
].join('\n');

/** The value of each --max-rate in `args` (the option and its value are separate words). */
const maxRates = (args: string[]) =>
  args.flatMap((a, i) => (a === '--max-rate' ? [Number(args[i + 1])] : []));

describe('commands file with --max-rate configured (every job, every way of asking)', () => {
  const policy = createPolicy({ maxRate: 100 });
  const parsed = parseCommandsFile(file, policy, 300);

  it('gives every job exactly one --max-rate, never above the ceiling', () => {
    expect(parsed.entries.map((e) => maxRates(e.args))).toEqual([[100], [100], [50], [100]]);
    for (const e of parsed.entries) {
      expect(e.command).toBe(e.args.join(' '));
      expect(e.timeoutS).toBe(300);
      // The worker checks the arguments again: the ceiling survives that unchanged.
      expect(checkArgs(e.args, policy).args).toEqual(e.args);
    }
  });

  it('refuses a --min-rate above the ceiling, naming its line', () => {
    expect(parsed.rejected).toEqual([
      expect.objectContaining({ line: 6, code: 'SCANMESH_REFUSED_OPTION' }),
    ]);
    expect(parsed.rejected[0]!.reason).toContain('--min-rate 999');
  });

  it('a ceiling changes job ids, so jobs queued under another ceiling run again', () => {
    const unlimited = parseCommandsFile(file, createPolicy(), 300);
    expect(unlimited.entries.map((e) => maxRates(e.args))).toEqual([[], [5000], [50], [], []]);
    expect(unlimited.entries[0]!.id).not.toBe(parsed.entries[0]!.id);
  });
});
