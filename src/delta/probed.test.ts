import { describe, expect, it } from 'vitest';
import { missingPorts, probedPorts, viewPort } from './probed.ts';
import { host, meta, port } from './testkit.ts';

describe('probedPorts', () => {
  it('takes each protocol from its <scaninfo> and adds every listed port', () => {
    const h = host({ ports: [port(8080, 'open'), port(53, 'open', { protocol: 'udp' })] });
    const probed = probedPorts(meta({ tcp: '1-1000', udp: '53,161' }), h);
    expect(probed.get('tcp')).toEqual([
      { lo: 1, hi: 1000 },
      { lo: 8080, hi: 8080 },
    ]);
    expect(probed.get('udp')).toEqual([
      { lo: 53, hi: 53 },
      { lo: 161, hi: 161 },
    ]);
  });

  it('knows only the listed ports without a header', () => {
    const probed = probedPorts(null, host({ ports: [port(22, 'open')] }));
    expect([...probed.entries()]).toEqual([['tcp', [{ lo: 22, hi: 22 }]]]);
  });

  it('has no ports for a ping scan (no <scaninfo>)', () => {
    expect(probedPorts(meta({}), host()).size).toBe(0);
  });
});

describe('missingPorts', () => {
  const m = meta({ tcp: '1-1000' });

  it('is zero when listed ports and extraports account for every probed port', () => {
    const h = host({ ports: [port(22, 'open')], extraPorts: [{ state: 'closed', count: 999 }] });
    expect(missingPorts(probedPorts(m, h), h)).toEqual({ probed: 1000, missing: 0 });
  });

  it('counts what a timed-out host (<host timedout="true">, no <ports>) leaves unaccounted', () => {
    const h = host();
    expect(missingPorts(probedPorts(m, h), h)).toEqual({ probed: 1000, missing: 1000 });
  });

  it('asks nothing of a down host: it was not port-scanned', () => {
    const h = host({ state: 'down', reason: 'no-response' });
    expect(missingPorts(probedPorts(m, h), h).missing).toBe(0);
  });
});

describe('viewPort', () => {
  it('takes a listed port as nmap listed it; no-response makes it silent', () => {
    const p = port(80, 'filtered');
    expect(viewPort(host(), p, true)).toEqual({ states: ['filtered'], listed: p, silent: true });
    const q = port(80, 'filtered', { reason: 'admin-prohibited' });
    expect(viewPort(host(), q, true)?.silent).toBe(false);
  });

  it('gives an unlisted port the extraports state ("997 closed")', () => {
    const h = host({ extraPorts: [{ state: 'closed', count: 997 }] });
    expect(viewPort(h, undefined, true)).toEqual({
      states: ['closed'],
      listed: null,
      silent: false,
    });
  });

  it('gives an unlisted port every extraports state when there are several', () => {
    const h = host({
      extraPorts: [
        { state: 'filtered', count: 33 },
        { state: 'closed', count: 68 },
      ],
    });
    expect(viewPort(h, undefined, true)).toEqual({
      states: ['closed', 'filtered'],
      listed: null,
      silent: true,
    });
  });

  it('knows nothing of an unlisted port without extraports or when the result is incomplete', () => {
    expect(viewPort(host(), undefined, true)).toBeNull();
    const h = host({ extraPorts: [{ state: 'closed', count: 10 }] });
    expect(viewPort(h, undefined, false)).toBeNull();
  });
});
