import { describe, expect, it } from 'vitest';
import { cidrCover, splitTargets } from './split.ts';

describe('splitTargets', () => {
  it('cuts a /20 into 16 /24s', () => {
    const blocks = splitTargets(['10.200.0.0/20'], 16);
    expect(blocks).toHaveLength(16);
    expect(blocks[0]).toEqual(['10.200.0.0/24']);
    expect(blocks[15]).toEqual(['10.200.15.0/24']);
  });

  it('shares uneven counts, first blocks one larger, covering every address once', () => {
    const blocks = splitTargets(['127.0.0.1', '127.0.1.0/30', '127.0.2.0/29'], 3);
    const sizes = blocks.map((b) =>
      b.reduce((n, t) => n + (t.includes('/') ? 2 ** (32 - Number(t.split('/')[1])) : 1), 0),
    );
    expect(sizes).toEqual([5, 4, 4]);
    expect(blocks).toEqual([['127.0.0.1', '127.0.1.0/30'], ['127.0.2.0/30'], ['127.0.2.4/30']]);
  });

  it('never makes more blocks than addresses, and keeps hostnames and octet ranges whole', () => {
    expect(splitTargets(['127.0.0.1', '127.0.0.2'], 16)).toEqual([['127.0.0.1'], ['127.0.0.2']]);
    const blocks = splitTargets(['127.0.0.0/31', 'scanme.example', '127.0.1-2.1'], 2);
    expect(blocks).toEqual([
      ['127.0.0.0', 'scanme.example'],
      ['127.0.0.1', '127.0.1-2.1'],
    ]);
  });

  it('covers an arbitrary range with the fewest CIDRs', () => {
    expect(cidrCover({ family: 4, lo: 0x7f000001n, hi: 0x7f00000an })).toEqual([
      '127.0.0.1',
      '127.0.0.2/31',
      '127.0.0.4/30',
      '127.0.0.8/31',
      '127.0.0.10',
    ]);
  });
});
