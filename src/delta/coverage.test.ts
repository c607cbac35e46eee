import { describe, expect, it } from 'vitest';
import { scanCovers } from './coverage.ts';
import { meta } from './testkit.ts';

const covers = (args: string, address: string, names: string[] = []): boolean | null =>
  scanCovers(meta({}, args), {
    address,
    hostnames: names.map((name) => ({ name, type: 'user' })),
  });

describe('scanCovers', () => {
  it('reads targets past option values and the -oX a saved file carries', () => {
    const args = 'nmap -sT -p 80 --max-retries 2 -oX out.xml 10.0.0.0/30 10.0.1.5';
    expect(covers(args, '10.0.0.3')).toBe(true);
    expect(covers(args, '10.0.1.5')).toBe(true);
    expect(covers(args, '10.0.0.4')).toBe(false);
    // "2" and "80" are option values, not targets.
    expect(covers('nmap -p 80 --max-retries 2 10.0.0.9', '0.0.0.2')).toBe(false);
  });

  it('reads nmap octet ranges and IPv6', () => {
    expect(covers('nmap -sn 10.0.1-3.7', '10.0.2.7')).toBe(true);
    expect(covers('nmap -sn 10.0.1-3.7', '10.0.2.8')).toBe(false);
    expect(covers('nmap -6 -sT -p 22 ::1', '::1')).toBe(true);
    expect(covers('nmap -sT -p 22 127.0.0.1', '::1')).toBe(false);
  });

  it('honours --exclude', () => {
    const args = 'nmap -sn --exclude 10.0.0.2,10.0.0.3 10.0.0.0/29';
    expect(covers(args, '10.0.0.2')).toBe(false);
    expect(covers(args, '10.0.0.4')).toBe(true);
  });

  it('matches a hostname target by the host names nmap recorded, else cannot tell', () => {
    expect(covers('nmap -sT -p 80 web.lan', '10.0.0.1', ['web.lan'])).toBe(true);
    expect(covers('nmap -sT -p 80 web.lan', '10.0.0.1', ['db.lan'])).toBeNull();
    expect(covers('nmap -sT -p 80 web.lan 10.0.0.1', '10.0.0.1')).toBe(true);
  });

  it('cannot tell when the targets came from a file or the line is unreadable', () => {
    expect(covers('nmap -sn -iL hosts.txt', '10.0.0.1')).toBeNull();
    expect(covers('nmap --no-such-option 10.0.0.1', '10.0.0.1')).toBeNull();
    expect(scanCovers(null, { address: '10.0.0.1', hostnames: [] })).toBeNull();
  });

  it("takes argv[0] by any path and drops nmap's own output options", () => {
    const args =
      '/usr/bin/nmap -v --stylesheet x.xsl --datadir /d --append-output -oN o.txt -oG - 10.0.0.1';
    expect(covers(args, '10.0.0.1')).toBe(true);
  });
});
