import { ScanmeshError } from '../errors.ts';
import { checkArgs, type CheckedCommand, type Policy } from './policy.ts';

export type { CheckedCommand } from './policy.ts';

/**
 * commands.txt lines → argument vectors. Lines are written as people type them into a shell, so
 * we honour shell quoting, but nothing else a shell does: no variables, globs, command
 * substitution, pipes or redirections. Operators are refused rather than passed to nmap as
 * text, because whoever wrote `nmap ... > out.txt` expects something we will never do.
 */

function bad(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_COMMAND', message);
}

const NO_SHELL = 'scanmesh never runs a shell';

const OPERATORS: Record<string, string> = {
  ';': 'command separators',
  '&': 'background jobs and &&',
  '|': 'pipes',
  '>': 'output redirection (scanmesh collects output itself)',
  '<': 'input redirection',
  '(': 'subshells',
  ')': 'subshells',
  '`': 'command substitution',
};

function refuseOperator(ch: string): never {
  throw bad(
    `"${ch}" is a shell operator for ${OPERATORS[ch]}; ${NO_SHELL}. Quote it if it is meant literally`,
  );
}

function refuseExpansion(): never {
  throw bad(
    `"$" starts a shell expansion, and ${NO_SHELL}; quote it with '...' if it is meant literally`,
  );
}

/**
 * Splits one line into arguments with POSIX shell quoting: '...' literal, "..." with \" \\ \$
 * \` escapes, \x outside quotes, and `#` at the start of a word beginning a comment. Throws
 * SCANMESH_BAD_COMMAND for unbalanced quotes, control characters and unquoted shell operators.
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const next = (): string => line.charAt(i++);
  for (const ch of line) {
    const code = ch.charCodeAt(0);
    if ((code < 0x20 && ch !== '\t') || code === 0x7f) {
      throw bad('the command line holds a control character or a line break');
    }
  }
  while (i < line.length) {
    const ch = next();
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (ch === "'") {
      const end = line.indexOf("'", i);
      if (end < 0) throw bad('unbalanced single quote');
      word += line.slice(i, end);
      i = end + 1;
      inWord = true;
    } else if (ch === '"') {
      word += readDoubleQuoted();
      inWord = true;
    } else if (ch === '\\') {
      if (i >= line.length) throw bad('a backslash at the end of the line continues nothing');
      word += next();
      inWord = true;
    } else if (ch === '$') {
      refuseExpansion();
    } else if (Object.hasOwn(OPERATORS, ch)) {
      refuseOperator(ch);
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;

  function readDoubleQuoted(): string {
    let out = '';
    for (;;) {
      if (i >= line.length) throw bad('unbalanced double quote');
      const ch = next();
      if (ch === '"') return out;
      if (ch === '`') refuseOperator(ch);
      if (ch === '$') refuseExpansion();
      if (ch === '\\' && /["\\$`]/.test(line.charAt(i))) out += next();
      else out += ch;
    }
  }
}

/** Words that run another program around nmap. */
const WRAPPERS: Record<string, string> = {
  sudo: 'drop "sudo": the worker runs nmap with the privileges it needs',
  doas: 'drop "doas": the worker runs nmap with the privileges it needs',
  su: 'drop "su": the worker runs nmap with the privileges it needs',
  env: `drop "env": ${NO_SHELL} and nmap's environment is the worker's`,
  time: 'drop "time": scanmesh records how long each scan took',
  timeout: 'drop "timeout": scanmesh stops scans at the job timeout',
  nice: 'drop "nice": the worker decides how nmap runs',
  exec: `drop "exec": ${NO_SHELL}`,
  sh: `${NO_SHELL}; write the nmap command line itself`,
  bash: `${NO_SHELL}; write the nmap command line itself`,
  proxychains: 'scanmesh never relays scans through proxies',
  proxychains4: 'scanmesh never relays scans through proxies',
  torsocks: 'scanmesh never relays scans through proxies',
};

/**
 * One commands.txt line → a checked command: tokenize, drop a leading `nmap` (or a path to it;
 * the worker always runs its own nmap), then checkArgs.
 */
export function parseCommandLine(line: string, policy: Policy): CheckedCommand {
  const words = tokenize(line);
  const first = words[0];
  if (first === undefined) throw bad('the command line is empty');
  if (Object.hasOwn(WRAPPERS, first)) throw bad(WRAPPERS[first] ?? NO_SHELL);
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) {
    throw bad(`"${first}" sets an environment variable; ${NO_SHELL}`);
  }
  const args = first === 'nmap' || /^\/[^\s]*\/nmap$/.test(first) ? words.slice(1) : words;
  if (args.length === 0) throw bad('nothing after "nmap": name options and targets');
  return checkArgs(args, policy);
}
