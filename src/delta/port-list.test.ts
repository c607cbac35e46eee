import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { countPorts, inRanges, mergeRanges, parsePortList } from './port-list.ts';

describe('parsePortList', () => {
  it('reads what nmap writes in <scaninfo services>: ranges and single ports', () => {
    expect(parsePortList('1-1000,8080', 'tcp')).toEqual([
      { lo: 1, hi: 1000 },
      { lo: 8080, hi: 8080 },
    ]);
    expect(countPorts(parsePortList('1-1000,8080', 'tcp'))).toBe(1001);
  });

  it('sorts and merges overlapping and adjacent items', () => {
    expect(parsePortList('443,80-90,91,85-86,22', 'tcp')).toEqual([
      { lo: 22, hi: 22 },
      { lo: 80, hi: 91 },
      { lo: 443, hi: 443 },
    ]);
  });

  it('honours T:/U:/S:/P: prefixes as -p does: a prefix carries over to the items after it', () => {
    const list = 'T:80,443,U:53,161-162,S:2905,P:6';
    expect(parsePortList(list, 'tcp')).toEqual([
      { lo: 80, hi: 80 },
      { lo: 443, hi: 443 },
    ]);
    expect(parsePortList(list, 'udp')).toEqual([
      { lo: 53, hi: 53 },
      { lo: 161, hi: 162 },
    ]);
    expect(parsePortList(list, 'sctp')).toEqual([{ lo: 2905, hi: 2905 }]);
    expect(parsePortList(list, 'ip')).toEqual([{ lo: 6, hi: 6 }]);
  });

  it('reads an empty list (numservices="0") as no ports', () => {
    expect(parsePortList('', 'tcp')).toEqual([]);
  });

  it.each(['80,', 'http', '1-', '90-80', '70000', 'X:80', 'T80', '1--2'])(
    'refuses "%s" with SCANMESH_BAD_XML',
    (text) => {
      let caught: unknown;
      try {
        parsePortList(text, 'tcp');
      } catch (err) {
        caught = err;
      }
      expect(isScanmeshError(caught, 'SCANMESH_BAD_XML')).toBe(true);
    },
  );

  it('bounds IP protocol numbers at 255', () => {
    expect(() => parsePortList('P:256', 'ip')).toThrow(/impossible range/);
  });
});

describe('inRanges', () => {
  const ranges = mergeRanges([
    { lo: 10, hi: 20 },
    { lo: 30, hi: 30 },
    { lo: 40, hi: 65_535 },
  ]);

  it.each([
    [9, false],
    [10, true],
    [20, true],
    [21, false],
    [30, true],
    [31, false],
    [65_535, true],
  ])('port %i → %s', (p, expected) => {
    expect(inRanges(ranges, p)).toBe(expected);
  });

  it('finds nothing in no ranges', () => {
    expect(inRanges([], 80)).toBe(false);
  });
});
