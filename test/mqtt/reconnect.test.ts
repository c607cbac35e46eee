import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded.ts';
import { testUsers } from '../../src/broker/testkit.ts';
import { createMqttClient } from '../../src/mqtt/client.ts';
import { superviseConnection } from '../../src/mqtt/reconnect.ts';
import { freePort } from '../harness/free-port.ts';
import { memoryLog, until } from '../harness/in-process.ts';

/**
 * A worker that boots before its broker: it must keep trying, say why once, back off, and join
 * as soon as the broker is there. Real mqtt.js client, real Aedes on a loopback port.
 */
describe('superviseConnection against a real broker', () => {
  let client: MqttClient | null = null;
  let broker: EmbeddedBroker | null = null;
  afterEach(async () => {
    await new Promise<void>((r) => (client ? client.end(true, {}, () => r()) : r()));
    await broker?.close();
    client = null;
    broker = null;
  });

  const dial = (port: number, extra: { username?: string; password?: string } = {}) =>
    createMqttClient(
      { url: `mqtt://127.0.0.1:${port}` },
      {
        clientId: 'scanmesh-worker-pi-01',
        persistentSession: false,
        reconnectPeriodMs: 40,
        keepaliveS: 10,
        ...extra,
      },
    );

  it('logs "connection refused" once while the broker is absent, backs off, then connects', async () => {
    const port = await freePort();
    const log = memoryLog('debug');
    client = dial(port);
    const watch = superviseConnection(client, log.logger, { maxMs: 320, random: () => 0.5 });
    const started = performance.now();
    const attempts: number[] = [];
    client.on('reconnect', () => attempts.push(performance.now() - started));
    await until(() => watch.failures >= 6, 'six failed attempts', 10_000);

    const warnings = log.records.filter((r) => r.msg.startsWith('broker unreachable'));
    expect(warnings.map((r) => r.msg)).toEqual(['broker unreachable: connection refused']);
    expect(watch.reason).toBe('connection refused');
    // The waits between attempts grow 40, 80, 160, 320 ms (the cap) instead of staying at 40.
    const gaps = attempts.slice(0, 5).map((t, i) => t - (i === 0 ? 0 : attempts[i - 1]!));
    for (const [i, least] of [40, 80, 160, 320, 320].entries()) {
      expect(gaps[i], `wait before attempt ${i + 2}`).toBeGreaterThanOrEqual(least - 2);
    }
    expect(client.options.reconnectPeriod).toBe(320);

    broker = await startEmbeddedBroker({
      port,
      host: '127.0.0.1',
      allowAnonymous: true,
      logger: pino({ level: 'silent' }),
    });
    await until(() => client!.connected, 'the client to connect', 10_000);
    expect(watch.reason).toBeNull();
    expect(watch.failures).toBe(0);
    expect(client.options.reconnectPeriod).toBe(40);
    expect(log.records.some((r) => r.msg === 'broker reachable again')).toBe(true);
    expect(log.records.filter((r) => r.msg.startsWith('broker unreachable'))).toHaveLength(1);
  });

  it('keeps retrying after "auth refused" (mqtt.js would stop) and joins once the account works', async () => {
    broker = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      users: testUsers([['pi-01', 'worker', 'right']]),
      logger: pino({ level: 'silent' }),
    });
    const log = memoryLog('debug');
    client = dial(broker.port, { username: 'pi-01', password: 'wrong' });
    const watch = superviseConnection(client, log.logger, { maxMs: 80, random: () => 0.5 });
    await until(() => watch.failures >= 4, 'four refused attempts', 10_000);
    expect(
      log.records.filter((r) => r.msg.startsWith('broker unreachable')).map((r) => r.msg),
    ).toEqual(['broker unreachable: auth refused: bad username or password']);
    // The operator fixes the password; the next attempt succeeds without a restart.
    client.options.password = 'right';
    await until(() => client!.connected, 'the client to connect', 10_000);
    expect(watch.failures).toBe(0);
  });
});
