import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.ts';
import { parseCommandLine, tokenize } from './command-line.ts';
import { DEFAULT_POLICY } from './policy.ts';
import { codeOf } from '../testkit.ts';

const NOT_RISKY =
  'and not (broadcast or brute or dos or exploit or external or fuzzer or intrusive or malware)';

describe('tokenize', () => {
  const good: [string, string[]][] = [
    ['nmap -sS 127.0.0.1', ['nmap', '-sS', '127.0.0.1']],
    ['  nmap\t-p 22   127.0.0.1  ', ['nmap', '-p', '22', '127.0.0.1']],
    ["nmap --script 'default,safe' x", ['nmap', '--script', 'default,safe', 'x']],
    ['nmap --script "default,safe" x', ['nmap', '--script', 'default,safe', 'x']],
    ["'a b' c", ['a b', 'c']],
    ['"a b"c\'d e\'', ['a bcd e']],
    ['"say \\"hi\\""', ['say "hi"']],
    ['"back\\\\slash"', ['back\\slash']],
    ['"dollar \\$ and tick \\`"', ['dollar $ and tick `']],
    ['"keep \\n as is"', ['keep \\n as is']],
    ["'no \\ escapes in single quotes'", ['no \\ escapes in single quotes']],
    ['a\\ b', ['a b']],
    ['a\\;b', ['a;b']],
    ["''", ['']],
    ['""', ['']],
    ['a "" b', ['a', '', 'b']],
    ["'>' '|' ';'", ['>', '|', ';']],
    ['"a > b"', ['a > b']],
    ['nmap 127.0.0.1 # a comment; with > operators', ['nmap', '127.0.0.1']],
    ['# only a comment', []],
    ['a#b', ['a#b']],
    ['10.0.*.1', ['10.0.*.1']],
    ['', []],
    ['   ', []],
  ];
  it.each(good)('%j → %j', (line, words) => {
    expect(tokenize(line)).toEqual(words);
  });

  const bad: [string, string][] = [
    ["'unbalanced", 'single quote'],
    ['"unbalanced', 'double quote'],
    ['"unbalanced \\"', 'escaped closing quote'],
    ['trailing \\', 'backslash at end'],
    ['nmap 127.0.0.1 > out.txt', 'redirect'],
    ['nmap 127.0.0.1 >> out.txt', 'append'],
    ['nmap 127.0.0.1 2>&1', 'fd redirect'],
    ['nmap < targets', 'input redirect'],
    ['nmap 127.0.0.1 | tee x', 'pipe'],
    ['nmap 127.0.0.1; rm -rf /', 'separator'],
    ['nmap 127.0.0.1 && reboot', 'and-list'],
    ['nmap 127.0.0.1 &', 'background'],
    ['nmap `whoami`', 'backticks'],
    ['nmap $(whoami)', 'command substitution'],
    ['nmap $HOST', 'variable'],
    ['nmap ${HOST}', 'braced variable'],
    ['nmap "$HOST"', 'variable in double quotes'],
    ['nmap "`id`"', 'backticks in double quotes'],
    ['nmap (127.0.0.1)', 'subshell'],
    ['nmap 127.0.0.1\nrm x', 'line break'],
    ["nmap 'a\nb'", 'line break inside quotes'],
    ['nmap \u0000', 'NUL'],
  ];
  it.each(bad)('%j is refused (%s)', (line) => {
    expect(codeOf(() => tokenize(line))).toBe('SCANMESH_BAD_COMMAND');
  });

  it('says that scanmesh never runs a shell', () => {
    expect(() => tokenize('nmap 127.0.0.1 > out.txt')).toThrow(/never runs a shell/);
  });
});

describe('parseCommandLine', () => {
  const good: [string, string[]][] = [
    ['nmap -sS 127.0.0.1', ['-sS', '127.0.0.1']],
    ['/usr/bin/nmap -sT 127.0.0.1', ['-sT', '127.0.0.1']],
    ['/usr/local/bin/nmap -F 127.0.0.1', ['-F', '127.0.0.1']],
    ['-sn 127.0.0.0/24', ['-sn', '127.0.0.0/24']],
    ['127.0.0.1 -p 22', ['-p', '22', '127.0.0.1']],
    ['nmap -p \'22,80\' "127.0.0.1" # ssh and web', ['-p', '22,80', '127.0.0.1']],
    ["nmap --script 'default' 127.0.0.1", ['--script', `(default) ${NOT_RISKY}`, '127.0.0.1']],
  ];
  it.each(good)('%j', (line, args) => {
    expect(parseCommandLine(line, DEFAULT_POLICY).args).toEqual(args);
  });

  const bad: [string, ErrorCode][] = [
    ['', 'SCANMESH_BAD_COMMAND'],
    ['# comment', 'SCANMESH_BAD_COMMAND'],
    ['nmap', 'SCANMESH_BAD_COMMAND'],
    ['sudo nmap -sS 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['doas nmap 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['env FOO=1 nmap 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['FOO=1 nmap 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['proxychains nmap 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['time nmap 127.0.0.1', 'SCANMESH_BAD_COMMAND'],
    ['bash -c "nmap 127.0.0.1"', 'SCANMESH_BAD_COMMAND'],
    ['nmap -oN out.txt 127.0.0.1', 'SCANMESH_REFUSED_OPTION'],
    ['nmap 10.0.0.1', 'SCANMESH_OUT_OF_SCOPE'],
    ['nmap 127.0.0.1 > out.txt', 'SCANMESH_BAD_COMMAND'],
  ];
  it.each(bad)('%j → %s', (line, code) => {
    expect(codeOf(() => parseCommandLine(line, DEFAULT_POLICY))).toBe(code);
  });

  it('tells a sudo user what to do', () => {
    expect(() => parseCommandLine('sudo nmap 127.0.0.1', DEFAULT_POLICY)).toThrow(/drop "sudo"/);
  });
});
