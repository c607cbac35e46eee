import { ScanmeshError } from '../errors.ts';
import { readOptions, type ReadOption } from './options.ts';
import {
  DEFAULT_SCOPE,
  checkTargets,
  createScope,
  resolveAndCheck,
  type Resolve,
  type Scope,
  type ScopeConfig,
} from './scope.ts';
import { parseTarget, targetFamily, type TargetSpec } from './targets.ts';

/**
 * The argument policy: what a commands.txt line may make a worker's nmap do. One call,
 * checkArgs, reads the options against the table in options.ts, applies the script and rate
 * rules below, and checks the targets against the scope. Its output is canonical (options as
 * nmap cannot misread them, then the targets) and checking it again gives it back unchanged,
 * so the worker can re-check what the master sent.
 */

export interface CheckedCommand {
  /** The options, then the targets: the last `targets.length` entries are the targets. */
  args: string[];
  targets: string[];
}

export interface Policy {
  /** Script names and categories that --script, -sC, -sV and -A may use. */
  readonly scripts: readonly string[];
  /** Keys --script-args may set; absent means DEFAULT_SCRIPT_ARGS. */
  readonly scriptArgs?: readonly string[];
  /** Packets per second: added as --max-rate, or lowering a larger one. */
  readonly maxRate?: number;
  readonly scope: Scope;
}

export const DEFAULT_SCRIPTS: readonly string[] = ['default', 'safe', 'discovery', 'version'];

/** Keys that tune how a script talks to the target; none names a file or adds targets. */
export const DEFAULT_SCRIPT_ARGS: readonly string[] = [
  'http.useragent',
  'http.max-body-size',
  'http.max-cache-size',
  'http.pipeline',
  'http.max-pipeline',
  'http.truncated-ok',
  'snmp.version',
];

/** nmap's script categories. `all` is nmap's name for every script. */
const CATEGORIES = new Set([
  'all',
  'auth',
  'broadcast',
  'brute',
  'default',
  'discovery',
  'dos',
  'exploit',
  'external',
  'fuzzer',
  'intrusive',
  'malware',
  'safe',
  'version',
  'vuln',
]);

/**
 * Categories that send traffic beyond the targets (broadcast, external) or attack them. Scripts
 * carry several categories: nmap's own `safe` holds 40 broadcast and 27 external scripts and
 * `discovery` holds 45 intrusive ones. So a category the policy allows selects only the scripts
 * whose risky categories the policy allows too, written as an nmap expression.
 */
const RISKY = [
  'broadcast',
  'brute',
  'dos',
  'exploit',
  'external',
  'fuzzer',
  'intrusive',
  'malware',
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ARG_KEY = /^[A-Za-z0-9_.-]+$/;
const NEW_TARGETS = /(^|\.)(max-)?newtargets$/;

function badConfig(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_CONFIG', message);
}

function badCommand(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_COMMAND', message);
}

function refused(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_REFUSED_OPTION', message);
}

function assertPolicy(p: Policy): void {
  if (!Array.isArray(p.scripts) || !p.scripts.every((s) => NAME.test(s))) {
    throw badConfig('policy.scripts must be a list of script names or categories');
  }
  if (p.scriptArgs !== undefined) {
    if (!Array.isArray(p.scriptArgs) || !p.scriptArgs.every((k) => ARG_KEY.test(k))) {
      throw badConfig('policy.scriptArgs must be a list of script argument names');
    }
    const bad = p.scriptArgs.find((k) => NEW_TARGETS.test(k));
    if (bad) throw badConfig(`policy.scriptArgs cannot allow ${bad}: it adds unchecked targets`);
  }
  if (p.maxRate !== undefined && !(Number.isFinite(p.maxRate) && p.maxRate > 0)) {
    throw badConfig(`policy.maxRate must be a positive number, not ${String(p.maxRate)}`);
  }
}

export function createPolicy(
  options: {
    scripts?: readonly string[];
    scriptArgs?: readonly string[];
    maxRate?: number;
    scope?: ScopeConfig;
  } = {},
): Policy {
  const policy: Policy = {
    scripts: Object.freeze([...(options.scripts ?? DEFAULT_SCRIPTS)]),
    ...(options.scriptArgs && { scriptArgs: Object.freeze([...options.scriptArgs]) }),
    ...(options.maxRate !== undefined && { maxRate: options.maxRate }),
    scope: options.scope ? createScope(options.scope) : DEFAULT_SCOPE,
  };
  assertPolicy(policy);
  return Object.freeze(policy);
}

export const DEFAULT_POLICY: Policy = createPolicy();

// ---------------------------------------------------------------------------------------------
// Scripts

function scriptItemProblem(item: string): ScanmeshError | null {
  if (/[/\\]|\.nse$|\./i.test(item)) {
    return refused(
      `script "${item}" is a path; scripts from files run arbitrary Lua on the worker. Name scripts or categories from the policy`,
    );
  }
  if (item.startsWith('+'))
    return refused(`script "${item}": "+" forces scripts on hosts they skip`);
  if (/[*?[\]]/.test(item))
    return refused(`script "${item}": wildcards can select scripts the policy does not name`);
  if (/[\s()!&|]/.test(item)) {
    return refused(
      `script "${item}": boolean script expressions are refused; list names or categories separated by commas`,
    );
  }
  return NAME.test(item) ? null : badCommand(`"${item}" is not a script name`);
}

/** --script: plain names and categories from policy.scripts → the value nmap gets. */
function checkScripts(value: string, policy: Policy): string {
  const exclude = RISKY.filter((c) => !policy.scripts.includes(c)).join(' or ');
  const picked = new Set<string>();
  const pick = (item: string): void => {
    if (!policy.scripts.includes(item)) {
      const allowed = policy.scripts.join(', ') || 'none';
      throw refused(`script ${item} is not allowed by the policy (allowed: ${allowed})`);
    }
    picked.add(item);
  };
  for (const item of value.split(',')) {
    // Our own output, seen again when the worker re-checks what the master sent.
    const ours = /^\(([a-z]+(?: or [a-z]+)*)\) and not \(([a-z ]+)\)$/.exec(item);
    if (ours && ours[2] === exclude) {
      (ours[1] ?? '').split(' or ').forEach(pick);
      continue;
    }
    const problem = scriptItemProblem(item);
    if (problem) throw problem;
    pick(item);
  }
  const categories = [...picked].filter((s) => CATEGORIES.has(s));
  const names = [...picked].filter((s) => !CATEGORIES.has(s));
  if (categories.length === 0 || exclude === '') return [...categories, ...names].join(',');
  return [`(${categories.join(' or ')}) and not (${exclude})`, ...names].join(',');
}

/** --script-args: `key=value,...` with keys from the policy and values nmap parses plainly. */
function checkScriptArgs(value: string, policy: Policy): void {
  const allowed = policy.scriptArgs ?? DEFAULT_SCRIPT_ARGS;
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const argValue = eq < 0 ? '' : pair.slice(eq + 1);
    if (!ARG_KEY.test(key)) throw badCommand(`script argument "${pair}" is not key=value`);
    if (NEW_TARGETS.test(key)) {
      throw refused(`script argument ${key} lets scripts add targets the scope never saw`);
    }
    if (!allowed.includes(key)) {
      throw refused(
        `script argument ${key} is not allowed by the policy (allowed: ${allowed.join(', ') || 'none'}); script arguments can name files on the worker`,
      );
    }
    if (/[{}"'\\=]/.test(argValue)) {
      throw badCommand(`script argument ${key}: values cannot hold quotes, braces, "\\" or "="`);
    }
  }
}

/** -sC and -A run the default scripts; -sV and -A run the version scripts. */
function requireScripts(option: string, needed: string[], policy: Policy): void {
  const missing = needed.filter((s) => !policy.scripts.includes(s));
  if (missing.length > 0) {
    throw refused(
      `option ${option} runs ${missing.join(' and ')} scripts, which the policy does not allow`,
    );
  }
}

/**
 * -sC and -A run every default script, and nmap's `default` holds some that are also external
 * (http-open-proxy, socks-open-proxy) or intrusive. Unlike --script they offer no way to leave
 * those out, so they run only where the policy allows every risky category.
 */
function requireNoRiskyLeftOut(option: string, instead: string, policy: Policy): void {
  const left = RISKY.filter((c) => !policy.scripts.includes(c));
  if (left.length === 0) return;
  throw refused(
    `option ${option} runs all default scripts, ${left.join(', ')} ones included, which the policy leaves out; write ${instead}, which runs the rest`,
  );
}

// ---------------------------------------------------------------------------------------------
// The whole command

function applyPolicy(options: ReadOption[], policy: Policy): string[][] {
  const out: string[][] = [];
  let sawMaxRate = false;
  for (const o of options) {
    if (o.key === '-A') {
      requireScripts('-A', ['default', 'version'], policy);
      requireNoRiskyLeftOut('-A', '-O -sV --traceroute --script default', policy);
    }
    if (o.key === '-s' && o.value?.includes('C')) {
      requireScripts('-sC', ['default'], policy);
      requireNoRiskyLeftOut('-sC', '--script default', policy);
    }
    if (o.key === '-s' && o.value?.includes('V')) requireScripts('-sV', ['version'], policy);
    if (o.key === '--script-args') checkScriptArgs(o.value ?? '', policy);
    if (o.key === '--script') {
      out.push(['--script', checkScripts(o.value ?? '', policy)]);
      continue;
    }
    const cap = policy.maxRate;
    if (cap !== undefined && o.key === '--min-rate' && Number(o.value) > cap) {
      throw refused(`option --min-rate ${o.value} exceeds the policy's maximum rate of ${cap}`);
    }
    if (o.key === '--max-rate') {
      sawMaxRate = true;
      if (cap !== undefined && Number(o.value) > cap) {
        out.push(['--max-rate', String(cap)]);
        continue;
      }
    }
    out.push(o.tokens);
  }
  if (policy.maxRate !== undefined && !sawMaxRate) out.push(['--max-rate', String(policy.maxRate)]);
  return out;
}

function checkFamily(spec: TargetSpec, ipv6: boolean, where: string): void {
  const family = targetFamily(spec);
  if (family === 6 && !ipv6) throw badCommand(`${where} ${spec.text} is IPv6: add -6`);
  if (family === 4 && ipv6) {
    throw badCommand(`${where} ${spec.text} is IPv4 but -6 scans IPv6 only; use a separate line`);
  }
  if (spec.kind === 'hostname' && spec.bits !== null && spec.bits > (ipv6 ? 128 : 32)) {
    throw badCommand(`${where} ${spec.text}: prefix too long for IPv${ipv6 ? 6 : 4}`);
  }
}

function check(args: readonly string[], policy: Policy) {
  assertPolicy(policy);
  for (const a of args) {
    if (!/^[\x20-\x7e]*$/.test(a)) {
      const dash = /^[\u2010-\u2015\u2212]/.test(a) ? ' (a typographic dash? write -)' : '';
      throw badCommand(`argument "${a}" has characters nmap cannot take${dash}`);
    }
  }
  const { options, targets } = readOptions(args);
  const seen = new Set<string>();
  for (const o of options) {
    if (o.once && seen.has(o.key)) throw badCommand(`option ${o.key} is given twice`);
    seen.add(o.key);
  }
  if (seen.has('-4') && seen.has('-6')) throw badCommand('-4 and -6 cannot be used together');
  const ipv6 = seen.has('-6');
  const exclude = options.find((o) => o.key === '--exclude')?.value;
  // nmap splits --exclude on every comma, so octet lists cannot appear there.
  for (const item of exclude?.split(',') ?? []) checkFamily(parseTarget(item), ipv6, 'excluded');
  if (targets.length === 0) throw badCommand('no targets: name the hosts or networks to scan');
  for (const t of targets) checkFamily(parseTarget(t), ipv6, 'target');
  const emitted = applyPolicy(options, policy).flat();
  checkTargets(targets, policy.scope);
  return {
    command: { args: [...emitted, ...targets], targets },
    ipv6,
    resolveAll: seen.has('--resolve-all'),
  };
}

/**
 * Checks an nmap argument vector (without the leading `nmap`) against the policy: options from
 * the table only, scripts and script arguments from the policy, the rate capped, every target
 * inside the scope. Throws SCANMESH_BAD_COMMAND, SCANMESH_REFUSED_OPTION or SCANMESH_OUT_OF_SCOPE.
 */
export function checkArgs(args: readonly string[], policy: Policy): CheckedCommand {
  return check(args, policy).command;
}

/**
 * The worker's call: re-checks `args`, resolves hostname targets, checks every address, and
 * returns the command with hostnames replaced by addresses (the first one, or all with
 * --resolve-all, as nmap itself would scan), so nmap never resolves a target name itself.
 */
export async function resolveCommand(
  args: readonly string[],
  policy: Policy,
  resolve: Resolve,
): Promise<CheckedCommand> {
  const { command, ipv6, resolveAll } = check(args, policy);
  const resolved = await resolveAndCheck(command.targets, policy.scope, resolve, { ipv6 });
  const targets = command.targets.flatMap((t) => {
    const addresses = resolved.get(t);
    if (!addresses) return [t];
    return resolveAll ? addresses : addresses.slice(0, 1);
  });
  const options = command.args.slice(0, command.args.length - command.targets.length);
  return { args: [...options, ...targets], targets };
}
