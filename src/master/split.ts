import {
  cidrInterval,
  formatAddress,
  formatInterval,
  parseIPv4,
  parseTarget,
  type Interval,
} from '../nmap/targets.ts';

/**
 * Targets → at most `n` blocks of about the same number of addresses, for `@split n`. Contiguous
 * targets (single addresses, CIDRs, IPv6 prefixes) are cut at address boundaries and written back
 * as CIDRs; targets that are not one block (octet ranges such as 10.0.0-3.1, hostnames) cannot be
 * cut without listing them, so each goes whole to the block that is smallest so far.
 */
export function splitTargets(targets: readonly string[], n: number): string[][] {
  const intervals: Interval[] = [];
  const whole: string[] = [];
  for (const t of targets) {
    const iv = contiguous(t);
    if (iv) intervals.push(iv);
    else whole.push(t);
  }
  const total = intervals.reduce((sum, iv) => sum + (iv.hi - iv.lo + 1n), 0n);
  const blocks = Math.max(1, Math.min(n, Number(total > BigInt(n) ? BigInt(n) : total) || 1));
  const out: { targets: string[]; size: bigint }[] = Array.from({ length: blocks }, () => ({
    targets: [],
    size: 0n,
  }));
  // Walk the addresses in order and start a new block every `total / blocks` addresses.
  let block = 0;
  let room = share(total, blocks, 0);
  for (const iv of intervals) {
    let lo = iv.lo;
    while (lo <= iv.hi) {
      const take = minBig(room, iv.hi - lo + 1n);
      const piece: Interval = { family: iv.family, lo, hi: lo + take - 1n };
      out[block]!.targets.push(...cidrCover(piece));
      out[block]!.size += take;
      lo += take;
      room -= take;
      if (room === 0n && block < blocks - 1) {
        block += 1;
        room = share(total, blocks, block);
      }
    }
  }
  for (const t of whole) {
    const smallest = out.reduce((a, b) => (b.size < a.size ? b : a));
    smallest.targets.push(t);
    smallest.size += 1n;
  }
  return out.map((b) => b.targets).filter((t) => t.length > 0);
}

/** The one block of addresses a target covers, if it is one: an IPv4 address or CIDR, any IPv6. */
function contiguous(target: string): Interval | undefined {
  const spec = parseTarget(target);
  if (spec.kind !== 'address') return undefined;
  if (spec.set.interval) return spec.set.interval;
  const m = /^([0-9.]+)(?:\/([0-9]+))?$/.exec(target);
  const value = m ? parseIPv4(m[1]!) : null;
  return value === null ? undefined : cidrInterval(4, value, m?.[2] ? Number(m[2]) : 32);
}

/** Addresses in block `i` when `total` are shared by `blocks`: the first ones get the remainder. */
function share(total: bigint, blocks: number, i: number): bigint {
  const b = BigInt(blocks);
  return total / b + (BigInt(i) < total % b ? 1n : 0n);
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The fewest CIDR blocks that cover exactly [lo, hi]. */
export function cidrCover(iv: Interval): string[] {
  const out: string[] = [];
  let lo = iv.lo;
  while (lo <= iv.hi) {
    let size = lo === 0n ? 1n << (iv.family === 4 ? 32n : 128n) : lo & -lo;
    while (lo + size - 1n > iv.hi) size >>= 1n;
    const hi = lo + size - 1n;
    out.push(
      lo === hi ? formatAddress(iv.family, lo) : formatInterval({ family: iv.family, lo, hi }),
    );
    lo += size;
  }
  return out;
}
