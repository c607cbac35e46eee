import { ScanmeshError } from '../errors.ts';

/**
 * nmap target specifications → sets of addresses that can be asked questions without being
 * enumerated, so a /8 or `0-255.0-255.13.37` is checked as quickly as a single host.
 *
 * The grammar follows nmap's own parser (NetBlock.cc): IPv4 octet ranges with an optional
 * netmask, IPv6 literals with an optional prefix length, and anything else is a hostname. Where
 * nmap falls back to the system resolver (which reads `127.1`, `0x7f.0.0.1` or `2130706433` the
 * way inet_aton does) or where tools disagree (`010` is 10 to nmap, 8 to inet_aton), we refuse:
 * a scope check is only as good as its agreement with what nmap will actually scan.
 */

export type Family = 4 | 6;

export const MAX_V4 = (1n << 32n) - 1n;
export const MAX_V6 = (1n << 128n) - 1n;

/** Every address a target can expand to. */
export interface AddressSet {
  readonly family: Family;
  /** Present when the set is one contiguous block (always, for IPv6). */
  readonly interval?: Interval;
  /** The smallest member that is ≥ x, or null when there is none. */
  nextAtLeast(x: bigint): bigint | null;
}

/** A contiguous block: a CIDR, a single address, an allowed or forbidden range. */
export interface Interval {
  readonly family: Family;
  readonly lo: bigint;
  readonly hi: bigint;
}

export type TargetSpec =
  | { kind: 'address'; text: string; set: AddressSet }
  | { kind: 'hostname'; text: string; name: string; bits: number | null };

function bad(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_COMMAND', message);
}

export function intervalSet(iv: Interval): AddressSet {
  return {
    family: iv.family,
    interval: iv,
    nextAtLeast: (x) => (x <= iv.lo ? iv.lo : x <= iv.hi ? x : null),
  };
}

export function cidrInterval(family: Family, value: bigint, bits: number): Interval {
  const width = family === 4 ? 32n : 128n;
  const hostBits = width - BigInt(bits);
  const size = 1n << hostBits;
  const lo = (value >> hostBits) << hostBits;
  return { family, lo, hi: lo + size - 1n };
}

/** The first member of `set` inside [lo, hi], or null. */
export function firstIn(set: AddressSet, lo: bigint, hi: bigint): bigint | null {
  const n = set.nextAtLeast(lo);
  return n !== null && n <= hi ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Literal addresses

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Strict dotted decimal, as inet_pton reads it: four parts, no leading zeros, no hex. */
export function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function hexGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!HEX_GROUP.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/**
 * Strict IPv6 (RFC 4291 text forms, as glibc's inet_pton reads them), without a zone. Written
 * here rather than taken from ipaddr.js, which reads `::1.2.3.4` as `::ffff:1.2.3.4` and accepts
 * `::ffff:0x7f.0.0.1` — both would make the scope check disagree with nmap.
 */
export function parseIPv6(text: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return null;
  let body = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    const prefix = text.slice(0, lastColon + 1);
    body = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const left = hexGroups(halves[0] ?? '');
  const right = halves.length === 2 ? hexGroups(halves[1] ?? '') : [];
  if (left === null || right === null) return null;
  const given = left.length + right.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return null;
  const groups = [...left, ...Array<number>(8 - given).fill(0), ...right, ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** A resolver's answer or a config value: strict IPv4 or IPv6, no zone, no odd spellings. */
export function parseAddress(text: string): { family: Family; value: bigint } | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

export function formatAddress(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) =>
    Number((value >> s) & 0xffffn),
  );
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatInterval(iv: Interval): string {
  const width = iv.family === 4 ? 32 : 128;
  const size = iv.hi - iv.lo + 1n;
  const bits = width - (size.toString(2).length - 1);
  const isCidr = (size & (size - 1n)) === 0n && (iv.lo & (size - 1n)) === 0n;
  return isCidr
    ? `${formatAddress(iv.family, iv.lo)}/${bits}`
    : `${formatAddress(iv.family, iv.lo)}-${formatAddress(iv.family, iv.hi)}`;
}

// ---------------------------------------------------------------------------------------------
// IPv4 octet ranges: `10.0.0-3.1-254`, `10.0.*.1`, `10.0.0.1,3,5`, `-` alone for 0-255

/** Four sets of octet values; the addresses are their Cartesian product. */
class OctetRanges implements AddressSet {
  readonly family = 4 as const;

  constructor(private readonly octets: readonly boolean[][]) {}

  /**
   * The product's members in numeric order are its members in lexicographic octet order, so the
   * next one is found digit by digit: keep the longest prefix of x that is in the sets, then bump
   * the rightmost digit that can be bumped and fill the rest with each set's minimum.
   */
  nextAtLeast(x: bigint): bigint | null {
    if (x > MAX_V4) return null;
    const n = Number(x < 0n ? 0n : x);
    const digits = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    let kept = 0;
    while (kept < 4 && this.octets[kept]?.[digits[kept] ?? 0]) kept++;
    if (kept === 4) return x;
    for (let i = kept; i >= 0; i--) {
      const bumped = this.firstAbove(i, digits[i] ?? 0);
      if (bumped === null) continue;
      const out = [...digits.slice(0, i), bumped];
      for (let k = i + 1; k < 4; k++) out.push(this.firstAbove(k, -1) ?? 0);
      return out.reduce((acc, d) => (acc << 8n) | BigInt(d), 0n);
    }
    return null;
  }

  private firstAbove(octet: number, v: number): number | null {
    const set = this.octets[octet] ?? [];
    for (let i = v + 1; i < 256; i++) if (set[i]) return i;
    return null;
  }
}

function octetNumber(text: string, spec: string): number {
  if (!DECIMAL_OCTET.test(text) || Number(text) > 255) {
    throw bad(
      `target ${spec}: "${text}" is not an octet value 0-255 in plain decimal (no leading zeros, which some tools read as octal)`,
    );
  }
  return Number(text);
}

function parseOctet(text: string, spec: string): boolean[] {
  const set = Array<boolean>(256).fill(false);
  if (text === '*') return set.fill(true);
  for (const item of text.split(',')) {
    const dash = item.indexOf('-');
    const from = dash < 0 ? item : item.slice(0, dash);
    const to = dash < 0 ? item : item.slice(dash + 1);
    // nmap reads an omitted start as 0 and an omitted end as 255.
    const lo = dash >= 0 && from === '' ? 0 : octetNumber(from, spec);
    const hi = dash >= 0 && to === '' ? 255 : octetNumber(to, spec);
    if (lo > hi) throw bad(`target ${spec}: the range ${item} runs backwards`);
    set.fill(true, lo, hi + 1);
  }
  return set;
}

/** nmap's apply_ipv4_netmask, octet by octet: widen each set over the bits the mask frees. */
function widen(set: boolean[], mask: number): boolean[] {
  const keep = new Set<number>();
  set.forEach((on, v) => on && keep.add(v & mask));
  return set.map((_, v) => keep.has(v & mask));
}

function parseIPv4Ranges(host: string, bits: number | null, spec: string): AddressSet {
  const parts = host.split('.');
  if (parts.length !== 4) {
    throw bad(
      `target ${spec} is not a four-part IPv4 address; nmap would hand it to the resolver, which reads short or numeric forms in surprising ways. Write it as a.b.c.d`,
    );
  }
  let octets = parts.map((p) => parseOctet(p, spec));
  if (bits !== null) {
    if (bits > 32) throw bad(`target ${spec}: an IPv4 prefix length is at most 32`);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    octets = octets.map((set, i) => widen(set, (mask >>> (24 - 8 * i)) & 255));
  }
  return new OctetRanges(octets);
}

// ---------------------------------------------------------------------------------------------
// Whole target expressions

/** What inet_aton accepts: 1-4 parts, each decimal, octal (leading 0) or hex (0x). */
const INET_ATON = /^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$/i;
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const ZONE = /^[A-Za-z0-9_.-]{1,15}$/;

function isHostname(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split('.');
  // A name whose last label has no letter is an address in disguise, never a DNS name.
  return labels.every((l) => LABEL.test(l)) && /[A-Za-z]/.test(labels[labels.length - 1] ?? '');
}

function splitNetmask(spec: string): { host: string; bits: number | null } {
  const slash = spec.lastIndexOf('/');
  if (slash < 0) return { host: spec, bits: null };
  const tail = spec.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(tail) || Number(tail) > 128) {
    throw bad(`target ${spec}: "/${tail}" is not a prefix length`);
  }
  return { host: spec.slice(0, slash), bits: Number(tail) };
}

/**
 * One target as nmap reads it. Throws SCANMESH_BAD_COMMAND for anything nmap would not read
 * the same way we do.
 */
export function parseTarget(spec: string): TargetSpec {
  if (spec === '' || !/^[\x21-\x7e]+$/.test(spec)) {
    throw bad(`target "${spec}" is empty or contains spaces or non-ASCII characters`);
  }
  const { host, bits } = splitNetmask(spec);
  if (/^[0-9*,.-]+$/.test(host) && host.includes('.')) {
    return { kind: 'address', text: spec, set: parseIPv4Ranges(host, bits, spec) };
  }
  if (host.includes(':')) {
    const percent = host.indexOf('%');
    const zone = percent < 0 ? null : host.slice(percent + 1);
    const value = parseIPv6(percent < 0 ? host : host.slice(0, percent));
    if (value === null || (zone !== null && !ZONE.test(zone))) {
      throw bad(`target ${spec} is not a valid IPv6 address`);
    }
    const iv = cidrInterval(6, value, bits ?? 128);
    return { kind: 'address', text: spec, set: intervalSet(iv) };
  }
  if (INET_ATON.test(host)) {
    throw bad(
      `target ${spec} is a numeric or hex address spelling that resolvers read in surprising ways; write it as a.b.c.d`,
    );
  }
  if (!isHostname(host)) {
    throw bad(`target ${spec} is not an IP address, an nmap address range or a hostname`);
  }
  return { kind: 'hostname', text: spec, name: host, bits };
}

export function targetFamily(spec: TargetSpec): Family | null {
  return spec.kind === 'address' ? spec.set.family : null;
}
