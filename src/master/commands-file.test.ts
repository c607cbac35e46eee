import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../nmap/policy.ts';
import { parseCommandsFile } from './commands-file.ts';

describe('commands file', () => {
  it('skips comments and blank lines, drops a leading nmap, and numbers nothing it ignores', () => {
    const file = parseCommandsFile(
      ['# a comment', '', '   ', 'nmap -sT -p 80 127.0.0.1', '-sT -p 443 127.0.0.2'].join('\n'),
      DEFAULT_POLICY,
      300,
    );
    expect(file.rejected).toEqual([]);
    expect(file.entries.map((e) => [e.command, e.timeoutS])).toEqual([
      ['-sT -p 80 127.0.0.1', 300],
      ['-sT -p 443 127.0.0.2', 300],
    ]);
  });

  it('gives the same line the same id wherever it moves, and repeats distinct ids', () => {
    const a = parseCommandsFile('-sT -p 80 127.0.0.1\n-sT -p 81 127.0.0.1\n', DEFAULT_POLICY, 300);
    const b = parseCommandsFile(
      '# moved\nnmap -sT -p 81 127.0.0.1\n-sT -p 80 127.0.0.1\n-sT  -p 80  127.0.0.1\n',
      DEFAULT_POLICY,
      300,
    );
    const [p80, p81] = a.entries.map((e) => e.id);
    expect(p80).toMatch(/^j-[0-9a-f]{12}-1$/);
    expect(b.entries.map((e) => e.id)).toEqual([p81, p80, p80!.replace(/-1$/, '-2')]);
  });

  it('reports refused lines with their number and code; the rest still runs', () => {
    const file = parseCommandsFile(
      [
        '-sT -p 80 127.0.0.1',
        'nmap -oN out.txt 127.0.0.1',
        '-sT 10.0.0.0/24',
        'nmap -sT 127.0.0.1 > out.txt',
        '-sT -p 22 127.0.0.1',
      ].join('\n'),
      DEFAULT_POLICY,
      300,
    );
    expect(file.entries.map((e) => e.command)).toEqual([
      '-sT -p 80 127.0.0.1',
      '-sT -p 22 127.0.0.1',
    ]);
    expect(file.rejected.map((r) => [r.line, r.code])).toEqual([
      [2, 'SCANMESH_REFUSED_OPTION'],
      [3, 'SCANMESH_OUT_OF_SCOPE'],
      [4, 'SCANMESH_BAD_COMMAND'],
    ]);
    expect(file.rejected[0]?.reason).toMatch(/-oN/);
  });

  it('cuts an @split line into block jobs under one parent id', () => {
    const file = parseCommandsFile(
      '@split 4 nmap -sT -p 80 127.0.0.0/24\n@split 1 -sT 127.0.0.1\n@weekly -sT 127.0.0.1\n',
      DEFAULT_POLICY,
      300,
    );
    expect(
      file.entries.map((e) => [
        e.id.replace(/^j-[0-9a-f]{12}-1/, 'P'),
        e.parent?.replace(/^j-[0-9a-f]{12}-1$/, 'P'),
        e.command,
      ]),
    ).toEqual([
      ['P.1', 'P', '-sT -p 80 127.0.0.0/26'],
      ['P.2', 'P', '-sT -p 80 127.0.0.64/26'],
      ['P.3', 'P', '-sT -p 80 127.0.0.128/26'],
      ['P.4', 'P', '-sT -p 80 127.0.0.192/26'],
    ]);
    expect(file.rejected.map((r) => [r.line, r.code])).toEqual([
      [2, 'SCANMESH_BAD_COMMAND'],
      [3, 'SCANMESH_BAD_COMMAND'],
    ]);
    const plain = parseCommandsFile('-sT -p 80 127.0.0.0/24\n', DEFAULT_POLICY, 300);
    expect(plain.entries[0]?.id).not.toBe(file.entries[0]?.parent);
  });

  it('keeps the ids of plain lines exactly as before schedules existed', () => {
    // Pinned (sha256 of the checked args, with "@split N" first for split lines): ids are how a
    // restarted master recognises lines, so they must never move.
    const file = parseCommandsFile(
      '-sT -p 80 127.0.0.1\n@split 2 -sT 127.0.0.0/30\n',
      DEFAULT_POLICY,
      300,
    );
    expect(file.entries.map((e) => [e.id, e.schedule])).toEqual([
      ['j-e63117d4e78f-1', undefined],
      ['j-8bb37d7cc9b7-1.1', undefined],
      ['j-8bb37d7cc9b7-1.2', undefined],
    ]);
  });

  it('gives a scheduled line its own id and marks every entry with line and canonical spec', () => {
    const file = parseCommandsFile(
      [
        '-sT -p 80 127.0.0.1',
        '@every 360m -sT -p 80 127.0.0.1',
        '@cron "0  3 * * *" nmap -sT -p 80 127.0.0.1',
        '@every 6h @split 2 nmap -sT 127.0.0.0/30',
        '@split 2 @every 6h -sT 127.0.0.0/30',
      ].join('\n'),
      DEFAULT_POLICY,
      300,
    );
    expect(file.rejected).toEqual([]);
    const [plain, every, cron, ...blocks] = file.entries;
    expect(plain!.schedule).toBeUndefined();
    expect(every!.id).toMatch(/^j-[0-9a-f]{12}-1$/);
    expect(every!.id).not.toBe(plain!.id);
    expect(every!.schedule).toEqual({ line: every!.id, spec: '@every 6h' });
    expect(cron!.schedule).toEqual({ line: cron!.id, spec: '@cron "0 3 * * *"' });
    expect(cron!.command).toBe('-sT -p 80 127.0.0.1');
    // Either order of directives is the same line; the second occurrence counts as such.
    const line = blocks[0]!.parent!;
    expect(blocks.map((e) => [e.id, e.parent, e.schedule, e.command])).toEqual([
      [`${line}.1`, line, { line, spec: '@every 6h' }, '-sT 127.0.0.0/31'],
      [`${line}.2`, line, { line, spec: '@every 6h' }, '-sT 127.0.0.2/31'],
      [
        `${line.replace(/-1$/, '-2')}.1`,
        line.replace(/-1$/, '-2'),
        expect.anything(),
        expect.any(String),
      ],
      [
        `${line.replace(/-1$/, '-2')}.2`,
        line.replace(/-1$/, '-2'),
        expect.anything(),
        expect.any(String),
      ],
    ]);
    const other = parseCommandsFile('@every 12h @split 2 -sT 127.0.0.0/30\n', DEFAULT_POLICY, 300);
    expect(other.entries[0]!.parent).not.toBe(line);
  });

  it('rejects a bad schedule or two schedules on one line, with a reason', () => {
    const file = parseCommandsFile(
      [
        '@every 0s -sT 127.0.0.1',
        '@every 6 h -sT 127.0.0.1',
        '@cron 0 3 * * * -sT 127.0.0.1',
        '@cron "99 * * * *" -sT 127.0.0.1',
        '@every 6h @cron "0 3 * * *" -sT 127.0.0.1',
        '@every 6h @every 1h -sT 127.0.0.1',
        '@every 6h',
        '@every 6h -sT 127.0.0.1',
      ].join('\n'),
      DEFAULT_POLICY,
      300,
    );
    expect(file.entries.map((e) => e.schedule?.spec)).toEqual(['@every 6h']);
    expect(file.rejected.map((r) => [r.line, r.code])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => [n, 'SCANMESH_BAD_COMMAND']),
    );
    const reasons = file.rejected.map((r) => r.reason);
    expect(reasons[0]).toMatch(/from 1s to 366d/);
    expect(reasons[1]).toMatch(/@every takes a duration/);
    expect(reasons[2]).toMatch(/double quotes/);
    expect(reasons[3]).toMatch(/not a valid cron expression/);
    expect(reasons[4]).toMatch(/one schedule/);
    expect(reasons[5]).toMatch(/one schedule/);
  });
});
