import type { Duplex } from 'node:stream';

/**
 * Aedes' parser (mqtt-packet) has no size limit: it buffers whatever length a fixed header
 * declares until the body has arrived, so one client could make the broker hold 256 MiB. This
 * scanner follows the MQTT framing (1 type byte, a 1-4 byte varint "remaining length", then that
 * many bytes) and reports the first packet whose declared remaining length is over the limit,
 * as soon as its header is seen and before its body is buffered.
 */
export class FrameScanner {
  private phase: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private left = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /** Returns null while every packet is within the limit, else why the stream must be cut. */
  feed(chunk: Uint8Array): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const step = Math.min(this.left, chunk.length - i);
        this.left -= step;
        i += step;
        if (this.left === 0) this.phase = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.phase === 'type') {
        this.phase = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'malformed remaining length';
        continue;
      }
      if (this.length > this.maxRemainingLength) {
        return `packet of ${this.length} bytes exceeds the ${this.maxRemainingLength}-byte limit`;
      }
      this.left = this.length;
      this.phase = this.left === 0 ? 'type' : 'body';
    }
    return null;
  }
}

/**
 * Make `stream` refuse to hand out a chunk holding an oversized packet: it is destroyed instead.
 * Aedes consumes a connection only through `read()` (on 'readable'), so wrapping this one
 * instance's `read` puts the check between the socket and aedes' parser. A passive 'data'
 * listener is not enough: it sees the chunk while aedes still parses and routes every complete
 * packet in it. The first chunk over the limit is withheld whole, and the connection with it.
 */
export function guardPacketSize(
  stream: Duplex,
  maxRemainingLength: number,
  onOversize: (reason: string) => void,
): void {
  const scanner = new FrameScanner(maxRemainingLength);
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => {
    if (stream.destroyed) return null;
    const chunk: unknown = read(size);
    if (!(chunk instanceof Uint8Array)) return chunk;
    const reason = scanner.feed(chunk);
    if (reason === null) return chunk;
    onOversize(reason);
    stream.destroy();
    return null;
  };
}
