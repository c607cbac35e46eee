import { describe, expect, it } from 'vitest';
import { ErrorCodes, isScanmeshError } from '../../src/errors.ts';
import { parseCommandsFile } from '../../src/master/commands-file.ts';
import { parseCommandLine } from '../../src/nmap/command-line.ts';
import { LONG, PING_TYPES, SCAN_TYPES, SHORT_FLAGS, SHORT_VALUES } from '../../src/nmap/options.ts';
import { checkArgs, createPolicy, resolveCommand, type Policy } from '../../src/nmap/policy.ts';
import { fuzzSeed, Prng } from './prng.ts';

/**
 * Random and mutated command lines at the commands.txt parser, the argument policy and the
 * worker's re-check. Whatever the line: only ScanmeshErrors with a known code come out, and a
 * line that is accepted is one the worker accepts unchanged, with no refused option in it.
 * Nothing here touches the network: hostnames go to a fake resolver.
 */
const SEED = fuzzSeed(20_261_121);
const LINES = Number(process.env.FUZZ_LINES ?? 30_000);

const policies: [string, Policy][] = [
  ['default', createPolicy()],
  ['max-rate 100', createPolicy({ maxRate: 100 })],
  [
    'wider scope',
    createPolicy({ scope: { allow: ['127.0.0.0/8', '10.0.0.0/8'], deny: ['10.9.0.0/16'] } }),
  ],
];

const longNames = Object.keys(LONG);
const refusedLong = new Set(longNames.filter((n) => LONG[n]!.kind === 'refused'));

/** Words a person (or an attacker) might put on a line. */
function word(r: Prng): string {
  return r.weighted<() => string>([
    [6, () => `--${r.pick(longNames)}`],
    [2, () => `--${r.pick(longNames)}=${value(r)}`],
    [3, () => r.pick(Object.keys(SHORT_FLAGS))],
    [3, () => `-s${r.text(r.between(1, 3), Object.keys(SCAN_TYPES).join('') + 'IPRB')}`],
    [2, () => `-P${r.pick(Object.keys(PING_TYPES))}${r.chance(0.5) ? value(r) : ''}`],
    [3, () => `-${r.pick(Object.keys(SHORT_VALUES))}${r.chance(0.5) ? '' : value(r)}`],
    [
      2,
      () =>
        r.pick(['-T4', '-T5', '-T9', '-v', '-vvv', '-d', '-d9', '-Pn', '-sC', '-A', '-6', '-4']),
    ],
    [
      2,
      () => r.pick(['-oN', '-oX', '-oA', '-iL', '-iR', '-b', '-D', '-S', '-e', '-h', '-V', '-m']),
    ],
    [6, () => value(r)],
    [8, () => target(r)],
    [2, () => r.pick([';', '&&', '|', '>', '<', '`id`', '$(id)', '$HOME', '(', ')', '&', '#'])],
    [2, () => r.pick(["'", '"', '\\', "'quoted word'", '"dq $x"', '"a\\"b"', "''", '""'])],
    [1, () => r.pick(['sudo', 'env', 'bash', 'X=1', 'nmap', '/usr/bin/nmap', 'time', 'nice'])],
    [1, () => r.text(r.between(1, 12), 'aZ09-_.:/,=+*?!@%^~[]{}ü\u00a0\u200b')],
    [1, () => r.text(r.between(1, 4), '\u0000\u0001\u001b\u007f\t\r')],
    [0.2, () => 'A'.repeat(r.between(1000, 50_000))],
  ])();
}

function value(r: Prng): string {
  return r.pick([
    '22',
    '1-1024',
    '22,80,443',
    'T:22,U:53',
    '-',
    '0',
    '65536',
    '-1',
    '1.5',
    '500ms',
    '30s',
    '5m',
    'default',
    'safe',
    'vuln',
    'http-title',
    'default,safe',
    'all',
    "'default or safe'",
    'http.useragent=x',
    'exploit',
    'eth0',
    '10',
    '100',
    '99999',
    'insane',
    'aggressive',
    '/etc/passwd',
    'out.txt',
    '../x',
    'http://example.invalid/',
    '',
  ]);
}

function target(r: Prng): string {
  return r.pick([
    '127.0.0.1',
    '127.0.0.1/8',
    '127.0.0.1-5',
    '127.0.0.*',
    '127.0.0.0/24',
    '::1',
    '[::1]',
    '10.1.2.3',
    '10.9.1.1',
    '10.0.0.0/8',
    '192.168.1.1',
    '0.0.0.0/0',
    '8.8.8.8',
    'localhost',
    'scanme.invalid',
    'a..b',
    '127.0.0.256',
    '127.1',
    '0x7f000001',
    '2130706433',
    '::ffff:127.0.0.1',
    'fe80::1%eth0',
    '127.0.0.1/33',
    '-',
    '127.0.0.1,2',
    '1.2.3.4/0',
  ]);
}

function line(r: Prng, good: readonly string[]): string {
  return r.weighted<() => string>([
    // From words.
    [
      6,
      () => Array.from({ length: r.between(1, 10) }, () => word(r)).join(r.pick([' ', '  ', '\t'])),
    ],
    // A line that was accepted, changed a little: the near misses that matter most.
    [
      good.length ? 4 : 0,
      () => {
        let s = r.pick(good);
        for (let k = r.between(1, 3); k > 0; k--) {
          const at = r.int(s.length + 1);
          const op = r.int(3);
          const piece = word(r);
          s =
            op === 0
              ? s.slice(0, at) + piece + s.slice(at)
              : op === 1
                ? s.slice(0, at) + s.slice(at + r.between(1, 5))
                : `${s} ${piece}`;
        }
        return s;
      },
    ],
    // Plain noise.
    [
      1,
      () =>
        r.text(
          r.between(0, 200),
          ' -abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:/=\'"\\;|&$`<>()#*?[]{}~\t',
        ),
    ],
  ])();
}

/** An accepted command must not carry anything the policy refuses, whatever path got it in. */
function refusedTokens(args: readonly string[]): string[] {
  return args.filter((a) => {
    if (/^-o[A-Z]/.test(a) || /^-i[LR]/.test(a) || a === '-oX') return true;
    if (!a.startsWith('--')) return false;
    return refusedLong.has(a.slice(2).split('=')[0]!);
  });
}

/** Hostnames resolve to loopback or to an address outside every scope, never through DNS. */
const fakeResolve = async (name: string) => (name.length % 2 ? ['127.0.0.1'] : ['192.0.2.7']);

describe('command lines, fuzzed', () => {
  it(`parseCommandLine and the worker's re-check: only coded ScanmeshErrors, over ${LINES} lines`, async () => {
    const r = new Prng(SEED);
    const good: string[] = [];
    const refusals = new Map<string, number>();
    const workerRefusals = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < LINES; i++) {
      const text = line(r, good);
      const [policyName, policy] = r.pick(policies);
      const where = `line ${i} (seed ${SEED}, policy ${policyName}): ${JSON.stringify(text.slice(0, 300))}`;
      let args: string[];
      try {
        args = parseCommandLine(text, policy).args;
      } catch (err) {
        if (!isScanmeshError(err)) throw new Error(`${where} threw ${String(err)}`, { cause: err });
        expect(Object.hasOwn(ErrorCodes, err.code), where).toBe(true);
        expect(err.message.length, where).toBeGreaterThan(0);
        refusals.set(err.code, (refusals.get(err.code) ?? 0) + 1);
        continue;
      }
      accepted++;
      if (good.length < 500) good.push(text);
      expect(refusedTokens(args), where).toEqual([]);
      // The worker checks again what the master sends: same policy, same arguments back.
      expect(checkArgs(args, policy).args, where).toEqual(args);
      if (policy.maxRate !== undefined) {
        const rates = args.flatMap((a, k) => (a === '--max-rate' ? [Number(args[k + 1])] : []));
        expect(rates.length, where).toBe(1);
        expect(rates[0]!, where).toBeLessThanOrEqual(policy.maxRate);
      }
      try {
        await resolveCommand(args, policy, fakeResolve);
      } catch (err) {
        if (!isScanmeshError(err))
          throw new Error(`${where}: worker threw ${String(err)}`, { cause: err });
        workerRefusals.set(err.code, (workerRefusals.get(err.code) ?? 0) + 1);
      }
    }
    const fmt = (m: Map<string, number>) =>
      [...m]
        .sort()
        .map(([c, n]) => `${c}=${n}`)
        .join(' ');
    console.log(
      `command lines (seed ${SEED}): ${LINES} tried, ${accepted} accepted; refused ${fmt(refusals)}`,
    );
    console.log(
      `  accepted lines the worker refused after resolving hostnames: ${fmt(workerRefusals) || 'none'}`,
    );
    // The generator must reach both sides of the policy, or it is testing nothing.
    expect(accepted).toBeGreaterThan(LINES / 50);
    for (const code of [
      'SCANMESH_BAD_COMMAND',
      'SCANMESH_REFUSED_OPTION',
      'SCANMESH_OUT_OF_SCOPE',
    ]) {
      expect(refusals.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });

  it('parseCommandsFile never throws: every line is a job, a refusal with its number and code, or skipped', () => {
    const r = new Prng(SEED + 1);
    const good = ['nmap -sT -p 22 127.0.0.1', '-sT -Pn -p 1-100 127.0.0.1', '-sn 127.0.0.0/30'];
    let jobs = 0;
    let refused = 0;
    for (let f = 0; f < 300; f++) {
      const lines = Array.from({ length: r.between(0, 60) }, () =>
        r.weighted<() => string>([
          [8, () => line(r, good)],
          [1, () => r.pick(['', '   ', '# comment', '  # indented comment', '\t'])],
        ])(),
      );
      const text = lines.join(r.pick(['\n', '\r\n'])) + (r.chance(0.5) ? '\n' : '');
      const [, policy] = r.pick(policies);
      let file: ReturnType<typeof parseCommandsFile>;
      try {
        file = parseCommandsFile(text, policy, 300);
      } catch (err) {
        throw new Error(`file ${f} (seed ${SEED + 1}) threw ${String(err)}`, { cause: err });
      }
      // Lines as the parser numbers them (it splits on \r?\n, so a lone \r stays inside a line).
      const numbered = text.split(/\r?\n/);
      const skipped = numbered.filter((l) => l.trim() === '' || l.trim().startsWith('#')).length;
      expect(file.entries.length + file.rejected.length + skipped).toBe(numbered.length);
      for (const x of file.rejected) {
        expect(Object.hasOwn(ErrorCodes, x.code)).toBe(true);
        expect(x.reason.length).toBeGreaterThan(0);
        expect(numbered[x.line - 1]!.trim()).toBe(x.text);
      }
      expect(new Set(file.entries.map((e) => e.id)).size).toBe(file.entries.length);
      for (const e of file.entries) expect(e.id).toMatch(/^j-[0-9a-f]{12}-[0-9]+$/);
      jobs += file.entries.length;
      refused += file.rejected.length;
    }
    console.log(
      `commands files (seed ${SEED + 1}): 300 files, ${jobs} jobs, ${refused} refused lines`,
    );
    expect(jobs).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
