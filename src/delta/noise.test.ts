import { describe, expect, it } from 'vitest';
import { absentHost, seenState } from './host-state.ts';
import { restsOnSilence, sideNoise } from './noise.ts';
import { host, meta, port, side, stats } from './testkit.ts';

describe('seenState', () => {
  it("takes nmap's up and down as they are", () => {
    expect(seenState(host()).state).toBe('up');
    expect(seenState(host({ state: 'down', reason: 'no-response' }))).toEqual({
      state: 'down',
      why: 'no-response',
    });
    expect(seenState(absentHost('10.0.0.1'))).toEqual({ state: 'down', why: 'not listed' });
    expect(seenState(host({ state: 'unknown', reason: 'user-set' })).state).toBe('unknown');
  });

  it('calls a -Pn host that answered no probe at all down', () => {
    const silent = host({
      reason: 'user-set',
      latencyMs: null,
      ports: [port(80, 'filtered'), port(81, 'filtered', { reason: 'host-unreach' })],
      extraPorts: [{ state: 'filtered', count: 998 }],
    });
    expect(seenState(silent)).toEqual({ state: 'down', why: 'no answer to any probe under -Pn' });
  });

  it('keeps a -Pn host up when anything answered, or when nothing was probed', () => {
    const base = { reason: 'user-set', latencyMs: null };
    expect(
      seenState(host({ ...base, ports: [port(80, 'filtered'), port(81, 'closed')] })).state,
    ).toBe('up');
    expect(seenState(host({ ...base, ports: [port(80, 'filtered')], latencyMs: 0.3 })).state).toBe(
      'up',
    );
    // -sn -Pn probes nothing: no evidence either way, so nmap's "up" stands.
    expect(seenState(host(base)).state).toBe('up');
    // A host that nmap found up by a ping is up even if every port is filtered.
    const pinged = host({ reason: 'echo-reply', latencyMs: null, ports: [port(80, 'filtered')] });
    expect(seenState(pinged).state).toBe('up');
  });
});

describe('sideNoise', () => {
  const m = meta({ tcp: '1-100' });

  it('finds nothing in a complete result of a finished run', () => {
    const h = host({ ports: [port(22, 'open')], extraPorts: [{ state: 'closed', count: 99 }] });
    expect(sideNoise({ ...side(h, m, 'j'), stats: stats() }, 'new')).toEqual([]);
    expect(sideNoise(null, 'old')).toEqual([]);
  });

  it('names a host nmap gave up on (ports unaccounted for)', () => {
    expect(sideNoise(side(host({ ports: [port(22, 'open')] }), m, 'j'), 'new')).toEqual([
      'new scan: nmap gave up on this host before it finished (host timeout): 99 of 100 probed ports have no result',
    ]);
  });

  it('names a run cut short or ended in error, only when stats are given', () => {
    const h = host({ extraPorts: [{ state: 'closed', count: 100 }] });
    expect(sideNoise({ ...side(h, m, 'j'), stats: null }, 'old')).toEqual([
      "old scan: the run ended without nmap's final statistics (cut short)",
    ]);
    const failed = stats({ exit: 'error', errorMessage: 'pcap failed' });
    expect(sideNoise({ ...side(h, m, 'j'), stats: failed }, 'new')).toEqual([
      'new scan: nmap reported exit "error": pcap failed',
    ]);
    expect(sideNoise(side(h, m, 'j'), 'new')).toEqual([]);
  });

  it('names a host without an up/down verdict', () => {
    expect(sideNoise(side(host({ state: 'unknown', reason: 'user-set' }), m, 'j'), 'new')).toEqual([
      'new scan: nmap gave no up or down verdict for this host (user-set)',
    ]);
  });
});

describe('restsOnSilence', () => {
  const answered = { states: ['open'], listed: null, silent: false };
  const silent = { states: ['filtered'], listed: null, silent: true };

  it('marks a change with silence on either side, and only then', () => {
    expect(restsOnSilence(answered, silent)).toBe(true);
    expect(restsOnSilence(silent, answered)).toBe(true);
    expect(restsOnSilence(answered, { ...answered, states: ['closed'] })).toBe(false);
  });
});
