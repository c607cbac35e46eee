/**
 * nmap's own words when a scan needs raw-socket privileges it does not have (nmap 7.93, seen by
 * running -sS, -sU, -O, --traceroute, -PU and --privileged scans as uid 65534).
 */
const NEEDS_ROOT = [
  /requires root privileges/i,
  /has to be run as root/i,
  /only works if you are root/i,
  /are you root\?/i,
  /couldn't open a raw socket/i,
];

export function saysNeedsRoot(text: string): boolean {
  return NEEDS_ROOT.some((pattern) => pattern.test(text));
}

/**
 * Keeps the last `limit` bytes written to it: nmap's fatal message comes last, and a chatty run
 * (debug output, warnings per host) must not grow the worker's memory without bound.
 */
export class ByteTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The kept bytes as text; a character cut at the front decodes as U+FFFD, which is harmless. */
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}
