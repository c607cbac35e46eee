import { describe, expect, it } from 'vitest';
import { ByteTail, saysNeedsRoot } from './stderr.ts';

describe('saysNeedsRoot', () => {
  it("recognises nmap 7.93's privilege refusals", () => {
    for (const said of [
      'You requested a scan type which requires root privileges.\nQUITTING!',
      'TCP/IP fingerprinting (for OS scan) requires root privileges.\nQUITTING!',
      'Traceroute has to be run as root\nQUITTING!',
      'Sorry, UDP Ping (-PU) only works if you are root (because we need to read raw responses off the wire)',
      "Couldn't open a raw socket. Error: Operation not permitted (1)",
      "Can't open pcap! Are you root?",
    ]) {
      expect(saysNeedsRoot(said), said).toBe(true);
    }
  });

  it('leaves other failures and warnings alone', () => {
    for (const said of [
      'Ports specified must be between 0 and 65535 inclusive\nQUITTING!',
      'Warning:  You are not root -- using TCP pingscan rather than ICMP',
      'Failed to resolve "example.invalid".',
    ]) {
      expect(saysNeedsRoot(said), said).toBe(false);
    }
  });
});

describe('ByteTail', () => {
  it('keeps only the last bytes written', () => {
    const tail = new ByteTail(25);
    // Ten 9-byte lines: the tail starts 7 bytes before the end of line 7.
    for (let i = 0; i < 10; i++) tail.push(Buffer.from(`line ${i}..\n`));
    expect(tail.text()).toBe('ne 7..\nline 8..\nline 9..\n');
    expect(Buffer.byteLength(tail.text())).toBe(25);
  });

  it('cuts a single chunk larger than the limit', () => {
    const tail = new ByteTail(4);
    tail.push(Buffer.from('abcdefgh'));
    expect(tail.text()).toBe('efgh');
  });
});
