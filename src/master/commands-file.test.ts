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
      '@split 4 nmap -sT -p 80 127.0.0.0/24\n@split 1 -sT 127.0.0.1\n@every 6h -sT 127.0.0.1\n',
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
});
