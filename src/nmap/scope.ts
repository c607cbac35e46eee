import { isScanmeshError, ScanmeshError } from '../errors.ts';
import {
  MAX_V4,
  MAX_V6,
  cidrInterval,
  firstIn,
  formatAddress,
  formatInterval,
  intervalSet,
  parseAddress,
  parseTarget,
  type AddressSet,
  type Family,
  type Interval,
} from './targets.ts';

/**
 * The scan scope: which addresses a worker may send packets to. A target is in scope only if
 * every address it can expand to lies in an allowed CIDR and in no denied one. Checks work on
 * interval bounds (see targets.ts), never by listing addresses.
 *
 * Hostnames cannot be judged on the master. The worker resolves them (resolveAndCheck), checks
 * every address, and hands nmap the addresses instead of the name, so there is no second lookup
 * whose answer could differ (DNS rebinding).
 */

export interface ScopeConfig {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** A validated scope (createScope). Any `{ allow, deny }` object is accepted where a Scope is. */
export type Scope = ScopeConfig;

export type Resolve = (hostname: string) => Promise<string[]>;

interface Compiled {
  allow: Interval[];
  deny: Interval[];
  /** Per family: the sorted, disjoint ranges that are NOT in scope. */
  gaps: Record<Family, Interval[]>;
}

const compiled = new WeakMap<ScopeConfig, Compiled>();

function badConfig(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_CONFIG', message);
}

function parseCidr(text: unknown, where: string): Interval {
  if (typeof text !== 'string') throw badConfig(`scope ${where}: ${String(text)} is not a string`);
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  const bitsText = slash < 0 ? null : text.slice(slash + 1);
  if (addr === null || (bitsText !== null && !/^(0|[1-9][0-9]{0,2})$/.test(bitsText))) {
    throw badConfig(`scope ${where}: "${text}" is not an IPv4 or IPv6 address or CIDR`);
  }
  const width = addr.family === 4 ? 32 : 128;
  const bits = bitsText === null ? width : Number(bitsText);
  if (bits > width) throw badConfig(`scope ${where}: "${text}" has a prefix longer than ${width}`);
  const iv = cidrInterval(addr.family, addr.value, bits);
  if (iv.lo !== addr.value) {
    // A scope is a security boundary: say what was meant rather than guess.
    const meant = `${formatAddress(addr.family, iv.lo)}/${bits}`;
    throw badConfig(`scope ${where}: "${text}" has host bits set; did you mean ${meant}?`);
  }
  return iv;
}

/** Sorted, merged, disjoint intervals of one family. */
function merge(ivs: Interval[], family: Family): Interval[] {
  const sorted = ivs.filter((i) => i.family === family).sort((a, b) => (a.lo < b.lo ? -1 : 1));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.lo <= last.hi + 1n) {
      if (iv.hi > last.hi) out[out.length - 1] = { family, lo: last.lo, hi: iv.hi };
    } else out.push(iv);
  }
  return out;
}

/** Everything in [0, max] not covered by the sorted disjoint `covered`. */
function complement(covered: Interval[], family: Family): Interval[] {
  const max = family === 4 ? MAX_V4 : MAX_V6;
  const out: Interval[] = [];
  let next = 0n;
  for (const iv of covered) {
    if (iv.lo > next) out.push({ family, lo: next, hi: iv.lo - 1n });
    next = iv.hi + 1n;
  }
  if (next <= max) out.push({ family, lo: next, hi: max });
  return out;
}

function assertShape(scope: ScopeConfig): void {
  if (!scope || !Array.isArray(scope.allow) || !Array.isArray(scope.deny)) {
    throw badConfig('scope must have `allow` and `deny` lists of CIDRs');
  }
}

function compile(scope: ScopeConfig): Compiled {
  const cached = compiled.get(scope);
  if (cached) return cached;
  assertShape(scope);
  const allow = scope.allow.map((c) => parseCidr(c, 'allow'));
  const deny = scope.deny.map((c) => parseCidr(c, 'deny'));
  // Not in scope = not allowed, or denied.
  const gapsOf = (family: Family): Interval[] =>
    merge([...complement(merge(allow, family), family), ...deny], family);
  const result: Compiled = { allow, deny, gaps: { 4: gapsOf(4), 6: gapsOf(6) } };
  // Only a frozen scope can be cached: a mutable one could change after it was compiled.
  if (Object.isFrozen(scope) && Object.isFrozen(scope.allow) && Object.isFrozen(scope.deny)) {
    compiled.set(scope, result);
  }
  return result;
}

export function createScope(config: ScopeConfig): Scope {
  assertShape(config);
  const scope: Scope = Object.freeze({
    allow: Object.freeze([...config.allow]),
    deny: Object.freeze([...config.deny]),
  });
  compile(scope);
  return scope;
}

export const DEFAULT_SCOPE: Scope = createScope({ allow: ['127.0.0.0/8', '::1/128'], deny: [] });

function describeScope(scope: ScopeConfig): string {
  const allow = scope.allow.length > 0 ? scope.allow.join(', ') : 'nothing';
  const deny = scope.deny.length > 0 ? `; denied: ${scope.deny.join(', ')}` : '';
  return `(allowed: ${allow}${deny}); widen it with --scope`;
}

function outOfScope(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_OUT_OF_SCOPE', message);
}

/**
 * Addresses that never go to "that one host": they reach the worker itself or everyone on a
 * link, so no scope entry can make them safe.
 */
const NEVER: Record<Family, { iv: Interval; why: string }[]> = {
  4: [
    {
      iv: cidrInterval(4, 0n, 32),
      why: 'the unspecified address, which reaches the worker itself',
    },
    { iv: cidrInterval(4, 0xe0000000n, 4), why: 'a multicast address, which reaches a group' },
    { iv: cidrInterval(4, MAX_V4, 32), why: 'the broadcast address, which reaches the whole link' },
  ],
  6: [
    {
      iv: cidrInterval(6, 0n, 128),
      why: 'the unspecified address, which reaches the worker itself',
    },
    { iv: cidrInterval(6, 0xffn << 120n, 8), why: 'a multicast address, which reaches a group' },
  ],
};

/**
 * IPv6 prefixes whose packets end up at an IPv4 host: IPv4-mapped (a dual-stack socket connects
 * to the IPv4 address) and the NAT64 well-known prefix (the network translates).
 */
const EMBEDS_V4: Interval[] = [
  cidrInterval(6, 0xffffn << 32n, 96),
  cidrInterval(6, 0x64ff9bn << 96n, 96),
];

function checkSet(label: string, set: AddressSet, scope: ScopeConfig, c: Compiled): void {
  for (const { iv, why } of NEVER[set.family]) {
    const hit = firstIn(set, iv.lo, iv.hi);
    if (hit !== null) {
      const addr = formatAddress(set.family, hit);
      throw outOfScope(`target ${label} is refused: ${addr} is ${why}`);
    }
  }
  for (const gap of c.gaps[set.family]) {
    const hit = firstIn(set, gap.lo, gap.hi);
    if (hit === null) continue;
    const denied = c.deny.find((d) => d.family === set.family && d.lo <= hit && hit <= d.hi);
    const addr = formatAddress(set.family, hit);
    const why = denied
      ? `${addr} is in the denied range ${formatInterval(denied)}`
      : `${addr} is not in an allowed range`;
    throw outOfScope(`target ${label} is outside the scan scope: ${why} ${describeScope(scope)}`);
  }
  // Only IPv6 sets can hold embedded IPv4, and IPv6 sets are always one interval.
  const iv = set.family === 6 ? set.interval : undefined;
  for (const prefix of iv ? EMBEDS_V4 : []) {
    const lo = iv && iv.lo > prefix.lo ? iv.lo : prefix.lo;
    const hi = iv && iv.hi < prefix.hi ? iv.hi : prefix.hi;
    if (lo > hi) continue;
    const v4 = intervalSet({ family: 4, lo: lo - prefix.lo, hi: hi - prefix.lo });
    checkSet(`${label} (which reaches IPv4 hosts)`, v4, scope, c);
  }
}

/**
 * Checks nmap target specifications (addresses, CIDRs, octet ranges, hostnames) against the
 * scope. Returns the hostnames, which only the worker can resolve and check (resolveAndCheck).
 * Throws SCANMESH_BAD_COMMAND for a malformed target and SCANMESH_OUT_OF_SCOPE for one outside.
 */
export function checkTargets(targets: readonly string[], scope: Scope): { hostnames: string[] } {
  const c = compile(scope);
  const hostnames: string[] = [];
  for (const text of targets) {
    const spec = parseTarget(text);
    if (spec.kind === 'hostname') hostnames.push(text);
    else checkSet(text, spec.set, scope, c);
  }
  return { hostnames };
}

/**
 * Checks what a hostname target resolved to. `target` is the target as written, so a
 * `name/24` checks the /24 around each address. Every address passed in must be in scope.
 */
export function checkResolved(target: string, addresses: readonly string[], scope: Scope): void {
  const c = compile(scope);
  const spec = parseTarget(target);
  const bits = spec.kind === 'hostname' ? spec.bits : null;
  if (addresses.length === 0) {
    throw new ScanmeshError('SCANMESH_BAD_COMMAND', `target ${target} did not resolve`);
  }
  for (const text of addresses) {
    const addr = parseAddress(text);
    if (addr === null) {
      throw outOfScope(`target ${target} resolved to "${text}", which is not an IP address`);
    }
    const width = addr.family === 4 ? 32 : 128;
    if (bits !== null && bits > width) {
      throw new ScanmeshError('SCANMESH_BAD_COMMAND', `target ${target}: prefix too long`);
    }
    const set = intervalSet(cidrInterval(addr.family, addr.value, bits ?? width));
    checkSet(`${target} (resolved to ${text})`, set, scope, c);
  }
}

/**
 * Resolves every hostname among `targets` once, keeps the addresses of the family nmap will
 * scan (IPv6 with -6, IPv4 otherwise), checks them all, and returns, per hostname target as
 * written, the replacement targets to give nmap instead (`name/24` → `addr/24`).
 */
export async function resolveAndCheck(
  targets: readonly string[],
  scope: Scope,
  resolve: Resolve,
  options: { ipv6?: boolean } = {},
): Promise<Map<string, string[]>> {
  const family: Family = options.ipv6 ? 6 : 4;
  const { hostnames } = checkTargets(targets, scope);
  const out = new Map<string, string[]>();
  await Promise.all(
    [...new Set(hostnames)].map(async (target) => {
      const spec = parseTarget(target);
      if (spec.kind !== 'hostname') return;
      // A lookup that fails (no such name, DNS down) refuses the job like any bad target: the
      // attempt ends with a reason, and the master tries again while it has attempts.
      const answers = await resolve(spec.name).catch((err: unknown) => {
        if (isScanmeshError(err)) throw err;
        const why = err instanceof Error ? err.message : String(err);
        throw new ScanmeshError(
          'SCANMESH_BAD_COMMAND',
          `target ${target} could not be resolved: ${why}`,
        );
      });
      const usable = answers.flatMap((a) => {
        const addr = parseAddress(a);
        return addr && addr.family === family ? [formatAddress(family, addr.value)] : [];
      });
      if (usable.length === 0) {
        const hint = family === 4 ? ' (add -6 to scan its IPv6 addresses)' : '';
        throw new ScanmeshError(
          'SCANMESH_BAD_COMMAND',
          `target ${target} has no IPv${family} address${hint}`,
        );
      }
      checkResolved(target, usable, scope);
      const suffix = spec.bits === null ? '' : `/${spec.bits}`;
      out.set(
        target,
        [...new Set(usable)].map((a) => a + suffix),
      );
    }),
  );
  return out;
}
