import { describe, expect, it } from 'vitest';
import { backoffMs, reasonOf } from './reconnect.ts';

const sysErr = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code} something`), { code, ...extra });

describe('reasonOf', () => {
  it('names network, DNS, TLS and CONNACK failures in a few words', () => {
    expect(reasonOf(sysErr('ECONNREFUSED'))).toBe('connection refused');
    expect(reasonOf(sysErr('ENETUNREACH'))).toBe('network unreachable');
    expect(reasonOf(sysErr('EHOSTUNREACH'))).toBe('host unreachable');
    expect(reasonOf(sysErr('ETIMEDOUT'))).toBe('connection timed out');
    expect(reasonOf(sysErr('ENOTFOUND', { hostname: 'master.lan' }))).toBe(
      'DNS lookup failed for master.lan (no such host)',
    );
    expect(reasonOf(sysErr('EAI_AGAIN', { hostname: 'master.lan' }))).toBe(
      'DNS lookup failed for master.lan (no DNS answer yet)',
    );
    expect(reasonOf(sysErr('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe(
      'TLS error: DEPTH_ZERO_SELF_SIGNED_CERT',
    );
    expect(reasonOf(sysErr('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe(
      'TLS error: ERR_TLS_CERT_ALTNAME_INVALID',
    );
    expect(reasonOf(sysErr('CERT_HAS_EXPIRED'))).toBe('TLS error: CERT_HAS_EXPIRED');
    // mqtt.js puts the CONNACK return code in `code` as a number.
    const connack = (rc: number) => Object.assign(new Error('Connection refused: x'), { code: rc });
    expect(reasonOf(connack(4))).toBe('auth refused: bad username or password');
    expect(reasonOf(connack(5))).toBe('auth refused: not authorized');
    expect(reasonOf(connack(135))).toBe('auth refused: not authorized');
    expect(reasonOf(connack(2))).toBe('broker refused the client id');
    expect(reasonOf(new Error('connack timeout'))).toBe(
      'no answer from the broker (connack timeout)',
    );
    expect(reasonOf(new Error('Keepalive timeout'))).toBe('keepalive timeout');
    expect(reasonOf(sysErr('EWHATEVER'))).toBe('EWHATEVER');
  });
});

describe('backoffMs', () => {
  it('doubles from the minimum up to the maximum', () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffMs(n, 2000, 30_000, mid))).toEqual([
      2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('jitters by ±20 % but never leaves [min, max]', () => {
    expect(backoffMs(2, 1000, 30_000, () => 0)).toBe(3200);
    expect(backoffMs(2, 1000, 30_000, () => 0.999_999)).toBe(4800);
    expect(backoffMs(0, 1000, 30_000, () => 0)).toBe(1000);
    expect(backoffMs(10, 1000, 30_000, () => 0.999_999)).toBe(30_000);
  });
});
