import type { MqttClient } from 'mqtt';
import type { Logger } from '../log.ts';

/**
 * Keeps a client trying to reach its broker forever, and says why it cannot, once.
 *
 * A Pi that boots before its network (or before the master) sees DNS fail, then the connection
 * refused, then connects. mqtt.js retries on a fixed `reconnectPeriod` and emits an `error` per
 * attempt; logging each would write a line every 2 s for as long as the master is down. So:
 * - each failure is reduced to a short reason (`reasonOf`), logged only when it changes;
 * - the wait between attempts doubles up to `maxMs` (mqtt.js reads `options.reconnectPeriod`
 *   each time it arms its reconnect timer, so we set it just before that, on `close`), with
 *   jitter so a room of Pis rebooting after a power cut does not knock in step;
 * - a refused CONNACK (bad password, user not added yet) is retried too: mqtt.js 5 stops for good
 *   after one unless `reconnectOnConnackError` is set, and a worker that gave up at boot because
 *   its account was added a minute later would never join.
 */
export interface SuperviseOptions {
  /** Longest wait between attempts. The shortest is the client's `reconnectPeriod`. */
  maxMs?: number;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

export interface ConnectionWatch {
  /** Why the client is not connected now; null while connected or before the first attempt. */
  readonly reason: string | null;
  /** Failed attempts since the last successful connection. */
  readonly failures: number;
}

export const DEFAULT_MAX_BACKOFF_MS = 30_000;

export function superviseConnection(
  client: MqttClient,
  log: Logger,
  o: SuperviseOptions = {},
): ConnectionWatch {
  const minMs = client.options.reconnectPeriod ?? 1000;
  const maxMs = Math.max(minMs, o.maxMs ?? DEFAULT_MAX_BACKOFF_MS);
  const random = o.random ?? Math.random;
  client.options.reconnectOnConnackError = true;

  let failures = 0;
  let lastError: string | null = null;
  let reason: string | null = null;
  let reported: string | null = null;
  // One failure per attempt, however many events it produces (an error, then a close).
  let attemptOpen = true;

  const fail = (why: string) => {
    if (!attemptOpen) return;
    attemptOpen = false;
    reason = why;
    lastError = null;
    const waitMs = backoffMs(failures, minMs, maxMs, random);
    client.options.reconnectPeriod = waitMs;
    failures += 1;
    if (why === reported) return;
    reported = why;
    log.warn(
      { reason: why, retryInS: Math.round(waitMs / 100) / 10 },
      `broker unreachable: ${why}`,
    );
  };

  client.on('error', (err) => {
    const why = reasonOf(err);
    if (client.connected) log.debug({ err: err.message }, 'mqtt error');
    // A refused CONNACK re-arms the reconnect timer right after this event, before any close.
    if (typeof (err as { code?: unknown }).code === 'number' && !client.connected) fail(why);
    else lastError = why;
  });
  // Prepended: mqtt.js arms its reconnect timer in its own `close` listener, which would
  // otherwise run first and use the previous period.
  client.prependListener('close', () => {
    if (client.disconnecting) return; // our own end()
    if (client.connected) fail(lastError ? `connection lost (${lastError})` : 'connection lost');
    else fail(lastError ?? 'connection closed by the broker');
  });
  client.on('reconnect', () => {
    attemptOpen = true;
  });
  client.on('connect', () => {
    if (reported !== null) log.info({ failures }, 'broker reachable again');
    failures = 0;
    reason = null;
    reported = null;
    lastError = null;
    attemptOpen = true;
    client.options.reconnectPeriod = minMs;
  });

  return {
    get reason() {
      return reason;
    },
    get failures() {
      return failures;
    },
  };
}

/** `minMs` doubled per failure up to `maxMs`, then ±20 % jitter (never above `maxMs`). */
export function backoffMs(
  failures: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.max(minMs, Math.min(maxMs, jittered)));
}

/** MQTT 3.1.1 CONNACK return codes (and their MQTT 5 reason codes) that mean "who are you?". */
const CONNACK_REASONS: Record<number, string> = {
  1: 'broker refused: unacceptable protocol version',
  2: 'broker refused the client id',
  3: 'broker unavailable',
  4: 'auth refused: bad username or password',
  5: 'auth refused: not authorized',
  134: 'auth refused: bad username or password',
  135: 'auth refused: not authorized',
};

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host down',
  EADDRNOTAVAIL: 'no usable local address (network not up?)',
  EPIPE: 'connection closed while sending',
};

/** A short reason a person can act on, for an error mqtt.js or the socket reported. */
export function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; hostname?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = e?.code;
  if (typeof code === 'number') {
    return CONNACK_REASONS[code] ?? `broker refused the connection (${message})`;
  }
  if (typeof code === 'string') {
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') {
      const host = typeof e.hostname === 'string' ? ` for ${e.hostname}` : '';
      const why = code === 'EAI_AGAIN' ? 'no DNS answer yet' : 'no such host';
      return `DNS lookup failed${host} (${why})`;
    }
    if (NET_REASONS[code]) return NET_REASONS[code];
    if (isTlsCode(code)) return `TLS error: ${code}`;
    return `${code}`;
  }
  if (/connack timeout/i.test(message)) return 'no answer from the broker (connack timeout)';
  if (/keepalive timeout/i.test(message)) return 'keepalive timeout';
  return message;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code === 'EPROTO' ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)
  );
}
