import { describe, expect, it } from 'vitest';
import { isScanmeshError, type ErrorCode } from '../errors.ts';
import {
  DEFAULT_SCOPE,
  checkResolved,
  checkTargets,
  createScope,
  resolveAndCheck,
  type ScopeConfig,
} from './scope.ts';
import { formatAddress, parseIPv6, parseTarget } from './targets.ts';
import { codeOf } from '../testkit.ts';

const inScope = (target: string, scope: ScopeConfig): ErrorCode | 'no error' =>
  codeOf(() => checkTargets([target], scope));

describe('createScope', () => {
  const bad: [string, unknown][] = [
    ['a /33', ['10.0.0.0/33']],
    ['a /129', ['::1/129']],
    ['host bits set', ['10.0.0.1/24']],
    ['a short IPv4 spelling', ['127.1/8']],
    ['a hex IPv4 spelling', ['0x7f.0.0.1/8']],
    ['a leading-zero prefix', ['10.0.0.0/08']],
    ['a zone', ['fe80::1%eth0']],
    ['a name', ['localhost']],
    ['an empty string', ['']],
    ['a number', [167772160]],
    ['not a list', '10.0.0.0/8'],
  ];
  it.each(bad)('refuses %s with SCANMESH_BAD_CONFIG', (_, allow) => {
    const config = { allow, deny: [] } as unknown as ScopeConfig;
    expect(codeOf(() => createScope(config))).toBe('SCANMESH_BAD_CONFIG');
  });

  it('names the offending value and what was meant', () => {
    expect(() => createScope({ allow: ['10.0.0.1/24'], deny: [] })).toThrow(
      /"10\.0\.0\.1\/24" has host bits set; did you mean 10\.0\.0\.0\/24\?/,
    );
  });

  it('accepts single addresses, /0 and IPv6, and freezes the result', () => {
    const scope = createScope({
      allow: ['192.168.1.5', '0.0.0.0/0', '::/0'],
      deny: ['10.0.0.0/8'],
    });
    expect(Object.isFrozen(scope) && Object.isFrozen(scope.allow)).toBe(true);
    expect(DEFAULT_SCOPE).toEqual({ allow: ['127.0.0.0/8', '::1/128'], deny: [] });
  });

  it('takes a plain { allow, deny } object where a scope is expected', () => {
    expect(inScope('10.0.0.1', { allow: ['10.0.0.0/8'], deny: [] })).toBe('no error');
  });
});

const LAN: ScopeConfig = createScope({
  allow: ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32', 'fe80::/10'],
  deny: ['10.1.0.0/16', '10.0.0.128/25'],
});

const EVERYTHING: ScopeConfig = createScope({ allow: ['0.0.0.0/0', '::/0'], deny: [] });
const V6_ALL_V4_LOOPBACK: ScopeConfig = createScope({ allow: ['::/0', '127.0.0.0/8'], deny: [] });

describe('checkTargets', () => {
  const cases: [string, ScopeConfig, ErrorCode | 'no error'][] = [
    // CIDR boundaries
    ['10.0.0.0', LAN, 'no error'],
    ['10.255.255.255', LAN, 'no error'],
    ['9.255.255.255', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['11.0.0.0', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    // deny inside allow
    ['10.0.0.127', LAN, 'no error'],
    ['10.0.0.128', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0.0.0/25', LAN, 'no error'],
    ['10.0.0.0/24', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0.0.64/26', LAN, 'no error'],
    ['10.0.0.0/8', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.1.0.0/16', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.2.0.0/16', LAN, 'no error'],
    ['10.0.255.255', LAN, 'no error'],
    ['10.1.255.255', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    // ranges partly outside
    ['10.0.0.0-127', LAN, 'no error'],
    ['10.0.0.0-128', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0.0.*', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0.0.-127', LAN, 'no error'],
    ['10.0.0.127-', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0-2.1.1', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0,2.1.1', LAN, 'no error'],
    ['10.0.0.1,3,5', LAN, 'no error'],
    ['10.0.0.1,3,200', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['9-10.0.0.1', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['192.168.0-255.1-254', LAN, 'no error'],
    ['192.167-168.1.1', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['0-255.0-255.13.37', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    // a netmask widens ranges the way nmap does: octet by octet
    ['10.2.3.4-5/24', LAN, 'no error'],
    ['10.0.0.1-5/24', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['10.0.0.1/25', LAN, 'no error'],
    ['10.0.0.200/25', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    // /0 and the addresses no scope makes safe
    ['10.0.0.0/0', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['1.2.3.4', EVERYTHING, 'no error'],
    ['0.0.0.0', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['0.0.0.0/0', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['0.0.0.1-255', EVERYTHING, 'no error'],
    ['224.0.0.251', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['239.255.255.250', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['223.255.255.255', EVERYTHING, 'no error'],
    ['255.255.255.255', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['::', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['ff02::1', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['::/0', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    // IPv6
    ['2001:db8::1', LAN, 'no error'],
    ['2001:0db8:0000::1', LAN, 'no error'],
    ['2001:db8::/32', LAN, 'no error'],
    ['2001:db8::/31', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['2001:db9::', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', LAN, 'SCANMESH_OUT_OF_SCOPE'],
    ['fe80::1%eth0', LAN, 'no error'],
    ['::1', DEFAULT_SCOPE, 'no error'],
    ['::2', DEFAULT_SCOPE, 'SCANMESH_OUT_OF_SCOPE'],
    ['::1/127', DEFAULT_SCOPE, 'SCANMESH_OUT_OF_SCOPE'],
    // IPv6 addresses that reach IPv4 hosts must have those hosts in scope too
    ['::ffff:127.0.0.1', V6_ALL_V4_LOOPBACK, 'no error'],
    ['::ffff:7f00:1', V6_ALL_V4_LOOPBACK, 'no error'],
    ['::ffff:10.0.0.1', V6_ALL_V4_LOOPBACK, 'SCANMESH_OUT_OF_SCOPE'],
    ['::ffff:0:0/96', V6_ALL_V4_LOOPBACK, 'SCANMESH_OUT_OF_SCOPE'],
    ['::ffff:127.0.0.0/104', V6_ALL_V4_LOOPBACK, 'no error'],
    ['::ffff:0.0.0.0', EVERYTHING, 'SCANMESH_OUT_OF_SCOPE'],
    ['64:ff9b::a00:1', V6_ALL_V4_LOOPBACK, 'SCANMESH_OUT_OF_SCOPE'],
    ['64:ff9b::127.0.0.1', V6_ALL_V4_LOOPBACK, 'no error'],
    ['::/64', V6_ALL_V4_LOOPBACK, 'SCANMESH_OUT_OF_SCOPE'],
    ['::ffff:127.0.0.1', DEFAULT_SCOPE, 'SCANMESH_OUT_OF_SCOPE'],
    ['::127.0.0.1', DEFAULT_SCOPE, 'SCANMESH_OUT_OF_SCOPE'],
    // Odd spellings that resolvers read as addresses: refused, never guessed
    ['127.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['127.0.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['0x7f.0.0.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['0x7f000001', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['2130706433', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['017700000001', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['0177.0.0.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['127.000.000.001', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['127.0.0.1.', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1.2.3.4.5', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['::ffff:127.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['::ffff:0x7f.0.0.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['::ffff:010.0.0.1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1::2::3', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    [':::1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1:2:3:4:5:6:7:8:9', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['12345::1', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['fe80::1%', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['fe80::1%eth0;x', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1.2.3.*5', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1.2.3.1,*', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1.2.3.1-2-3', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['1.2.3.', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['a.b.c.123', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['-bad.example', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['bad-.example', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['sp ace.example', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    ['', EVERYTHING, 'SCANMESH_BAD_COMMAND'],
    // Hostnames are left for the worker
    ['localhost', DEFAULT_SCOPE, 'no error'],
    ['scanme.example.org/24', DEFAULT_SCOPE, 'no error'],
    ['xn--bcher-kva.example.', DEFAULT_SCOPE, 'no error'],
  ];
  it.each(cases)('%s', (target, scope, code) => {
    expect(inScope(target, scope)).toBe(code);
  });

  it('returns the hostnames for the worker to resolve', () => {
    const targets = ['127.0.0.1', 'localhost', 'scanme.example.org/24', '::1'];
    expect(checkTargets(targets, DEFAULT_SCOPE)).toEqual({
      hostnames: ['localhost', 'scanme.example.org/24'],
    });
  });

  it('names the first address outside and the range that denied it', () => {
    expect(() => checkTargets(['10.0.0.100-200'], LAN)).toThrow(
      /10\.0\.0\.128 is in the denied range 10\.0\.0\.128\/25/,
    );
    expect(() => checkTargets(['::ffff:10.0.0.1'], V6_ALL_V4_LOOPBACK)).toThrow(
      /reaches IPv4 hosts.*10\.0\.0\.1 is not in an allowed range/,
    );
  });

  it('checks a /8 and an Internet-wide range against a large scope at once', () => {
    const rng = mulberry32(7);
    const deny = Array.from({ length: 2000 }, () => `10.${rng() % 256}.${rng() % 256}.0/24`);
    const scope = createScope({ allow: ['0.0.0.0/0'], deny });
    const start = performance.now();
    expect(inScope('10.0.0.0/8', scope)).toBe('SCANMESH_OUT_OF_SCOPE');
    expect(inScope('11.0.0.0/8', scope)).toBe('no error');
    expect(inScope('1-255.0-255.0-255.1-254', scope)).toBe('SCANMESH_OUT_OF_SCOPE');
    expect(inScope('11-200.0-255.0-255.1-254', scope)).toBe('no error');
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('checkResolved', () => {
  const cases: [string, string[], ErrorCode | 'no error'][] = [
    ['localhost', ['127.0.0.1', '::1'], 'no error'],
    ['evil.example', ['127.0.0.1', '10.0.0.1'], 'SCANMESH_OUT_OF_SCOPE'],
    ['net.example/24', ['127.0.0.1'], 'no error'],
    ['net.example/7', ['127.0.0.1'], 'SCANMESH_OUT_OF_SCOPE'],
    ['odd.example', ['127.1'], 'SCANMESH_OUT_OF_SCOPE'],
    ['zero.example', ['0.0.0.0'], 'SCANMESH_OUT_OF_SCOPE'],
    ['mapped.example', ['::ffff:127.0.0.1'], 'SCANMESH_OUT_OF_SCOPE'],
    ['empty.example', [], 'SCANMESH_BAD_COMMAND'],
  ];
  it.each(cases)('%s → %j', (name, addresses, code) => {
    expect(codeOf(() => checkResolved(name, addresses, DEFAULT_SCOPE))).toBe(code);
  });
});

describe('resolveAndCheck', () => {
  it('resolves each name once and maps targets to args-ready addresses', async () => {
    const calls: string[] = [];
    const resolve = async (name: string): Promise<string[]> => {
      calls.push(name);
      return name === 'localhost' ? ['127.0.0.1', '::1', '127.0.0.1'] : ['127.0.0.9'];
    };
    const map = await resolveAndCheck(
      ['localhost', '127.0.0.2', 'localhost', 'net.example/30'],
      DEFAULT_SCOPE,
      resolve,
    );
    expect([...map]).toEqual([
      ['localhost', ['127.0.0.1']],
      ['net.example/30', ['127.0.0.9/30']],
    ]);
    expect(calls.sort()).toEqual(['localhost', 'net.example']);
    const v6 = await resolveAndCheck(['localhost'], DEFAULT_SCOPE, resolve, { ipv6: true });
    expect(v6.get('localhost')).toEqual(['::1']);
  });

  it('refuses a name that resolves outside the scope', async () => {
    const err: unknown = await resolveAndCheck(['x.example'], DEFAULT_SCOPE, async () => [
      '127.0.0.1',
      '192.0.2.1',
    ]).catch((e: unknown) => e);
    expect(isScanmeshError(err, 'SCANMESH_OUT_OF_SCOPE')).toBe(true);
  });

  it('turns a failed lookup into a refusal that names the target', async () => {
    const lookupFailed = Object.assign(new Error('getaddrinfo ENOTFOUND x.example'), {
      code: 'ENOTFOUND',
    });
    const err: unknown = await resolveAndCheck(['x.example'], DEFAULT_SCOPE, () =>
      Promise.reject(lookupFailed),
    ).catch((e: unknown) => e);
    expect(isScanmeshError(err, 'SCANMESH_BAD_COMMAND')).toBe(true);
    expect((err as Error).message).toBe(
      'target x.example could not be resolved: getaddrinfo ENOTFOUND x.example',
    );
  });
});

describe('IPv6 text', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8::0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    // IPv4-compatible, not IPv4-mapped (ipaddr.js gets this one wrong)
    ['::1.2.3.4', '::102:304'],
  ];
  it.each(cases)('%s → %s', (text, formatted) => {
    const value = parseIPv6(text);
    expect(value).not.toBeNull();
    expect(formatAddress(6, value ?? 0n)).toBe(formatted);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests against brute force

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
const inCidr = (n: number, base: number, bits: number): boolean =>
  (n & maskOf(bits)) >>> 0 === (base & maskOf(bits)) >>> 0;
const special = (n: number): boolean => n === 0 || n >>> 28 === 0xe || n === 0xffffffff;

describe('scope agrees with brute force', () => {
  const rng = mulberry32(20240611);
  const anchors = Array.from({ length: 4 }, () => rng());
  const near = (): number =>
    ((anchors[rng() % 4] ?? 0) ^ (rng() % 2 ? rng() & 0xffff : rng() & 0xff)) >>> 0;
  const cidr = (): [number, number] => {
    const bits = 8 + (rng() % 25);
    return [(near() & maskOf(bits)) >>> 0, bits];
  };

  function randomScope(): { scope: ScopeConfig; member: (n: number) => boolean } {
    const allow = Array.from({ length: 1 + (rng() % 4) }, cidr);
    const deny = Array.from({ length: rng() % 4 }, cidr);
    const scope = createScope({
      allow: allow.map(([b, bits]) => `${ip(b)}/${bits}`),
      deny: deny.map(([b, bits]) => `${ip(b)}/${bits}`),
    });
    const member = (n: number): boolean =>
      !special(n) &&
      allow.some(([b, bits]) => inCidr(n, b, bits)) &&
      !deny.some(([b, bits]) => inCidr(n, b, bits));
    return { scope, member };
  }

  it('for single addresses', () => {
    const seen = { in: 0, out: 0 };
    for (let round = 0; round < 200; round++) {
      const { scope, member } = randomScope();
      for (let k = 0; k < 25; k++) {
        const n = near();
        const expected = member(n);
        seen[expected ? 'in' : 'out']++;
        expect(inScope(ip(n), scope) === 'no error', `${ip(n)} in ${JSON.stringify(scope)}`).toBe(
          expected,
        );
      }
    }
    // Both answers must be common, or the comparison proves little.
    expect(Math.min(seen.in, seen.out)).toBeGreaterThan(500);
  });

  it('for octet ranges, enumerated', () => {
    const seen = { in: 0, out: 0 };
    for (let round = 0; round < 300; round++) {
      const { scope, member } = randomScope();
      const base = near();
      const octets = [24, 16, 8, 0].map((shift, i) => {
        const v = (base >>> shift) & 255;
        if (i < 2 || rng() % 3 === 0) return [v];
        const lo = Math.max(0, v - (rng() % 20));
        return Array.from({ length: 1 + (rng() % 30) }, (_, j) => lo + j).filter((x) => x < 256);
      });
      const spec = octets.map((o) => o.join(',')).join('.');
      const all: number[] = [];
      for (const a of octets[0] ?? [])
        for (const b of octets[1] ?? [])
          for (const c of octets[2] ?? [])
            for (const d of octets[3] ?? []) all.push(((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
      const expected = all.every(member);
      seen[expected ? 'in' : 'out']++;
      expect(inScope(spec, scope) === 'no error', spec).toBe(expected);
    }
    expect(Math.min(seen.in, seen.out)).toBeGreaterThan(30);
  });

  it('for the next member of a range with a netmask', () => {
    for (let round = 0; round < 300; round++) {
      const base = near();
      const bits = 16 + (rng() % 17);
      const lo3 = (base >>> 8) & 255;
      const hi3 = Math.min(255, lo3 + (rng() % 4));
      const lo4 = base & 255;
      const hi4 = Math.min(255, lo4 + (rng() % 50));
      const spec = `${base >>> 24}.${(base >>> 16) & 255}.${lo3}-${hi3}.${lo4}-${hi4}/${bits}`;
      const parsed = parseTarget(spec);
      if (parsed.kind !== 'address') throw new Error(spec);
      // nmap's rule: v is scanned if some listed address agrees with it on the masked bits.
      const masked = new Set<number>();
      for (let c = lo3; c <= hi3; c++)
        for (let d = lo4; d <= hi4; d++)
          masked.add((((base & 0xffff0000) | (c << 8) | d) & maskOf(bits)) >>> 0);
      for (let k = 0; k < 20; k++) {
        const x = near();
        // Each masked value m stands for the block [m, m | ~mask]; take the first one reaching x.
        let expected: number | null = null;
        for (const m of masked) {
          const end = (m | ~maskOf(bits)) >>> 0;
          const candidate = Math.max(x, m);
          if (candidate <= end && (expected === null || candidate < expected)) expected = candidate;
        }
        const got = parsed.set.nextAtLeast(BigInt(x));
        expect(got, `${spec} from ${ip(x)}`).toBe(expected === null ? null : BigInt(expected));
      }
    }
  });
});
