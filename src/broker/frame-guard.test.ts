import { describe, expect, it } from 'vitest';
import { FrameScanner } from './frame-guard.ts';

/** A QoS 0 PUBLISH on topic "t", encoded by hand (MQTT 3.1.1 §2.2.3, §3.3). */
const publish = (bytes: number) => {
  const body = Buffer.concat([Buffer.from([0, 1, 0x74]), Buffer.alloc(bytes, 1)]);
  const length: number[] = [];
  let n = body.length;
  do {
    length.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x30, ...length]), body]);
};

/** Feed byte by byte, as the worst possible TCP segmentation. */
const feedBytes = (s: FrameScanner, buf: Buffer) => {
  for (const byte of buf) {
    const r = s.feed(Uint8Array.of(byte));
    if (r !== null) return r;
  }
  return null;
};

describe('FrameScanner', () => {
  it('lets packets up to the limit through, whole or split anywhere', () => {
    // remaining length = 2 (topic length) + 1 (topic) + payload
    const atLimit = publish(997);
    const stream = Buffer.concat([atLimit, publish(0), atLimit, publish(500)]);
    expect(new FrameScanner(1000).feed(stream)).toBeNull();
    expect(feedBytes(new FrameScanner(1000), stream)).toBeNull();
    for (const cut of [1, 2, 3, 500, atLimit.length, atLimit.length + 1]) {
      const s = new FrameScanner(1000);
      expect(s.feed(stream.subarray(0, cut))).toBeNull();
      expect(s.feed(stream.subarray(cut))).toBeNull();
    }
  });

  it('flags the first packet over the limit from its header alone', () => {
    const s = new FrameScanner(1000);
    expect(s.feed(publish(100))).toBeNull();
    const big = publish(998);
    // Only the fixed header (1 type byte + 2 length bytes): no body needed to decide.
    expect(s.feed(big.subarray(0, 3))).toMatch(/1001 bytes exceeds the 1000-byte limit/);
  });

  it('finds an oversized packet after many small ones, split byte by byte', () => {
    const stream = Buffer.concat([publish(10), publish(20), publish(5000)]);
    expect(feedBytes(new FrameScanner(1000), stream)).toMatch(/exceeds/);
  });

  it('decodes four-byte lengths and refuses a fifth length byte', () => {
    // 0x30 = PUBLISH; ff ff ff 7f = 268 435 455, the MQTT maximum.
    expect(new FrameScanner(1 << 20).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]))).toMatch(
      /268435455 bytes/,
    );
    expect(new FrameScanner(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toMatch(
      /malformed/,
    );
  });
});
