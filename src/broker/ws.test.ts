import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.ts';
import { recordingLogger, testUsers } from './testkit.ts';

describe('WebSocket listener', () => {
  let broker: EmbeddedBroker | null = null;
  afterEach(async () => {
    await broker?.close();
    broker = null;
  });

  it('carries MQTT over ws:// with the same users and ACLs as TCP', async () => {
    broker = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      wsPort: 0,
      logger: recordingLogger().logger,
      users: testUsers([
        ['m1', 'master', 'master-pw'],
        ['w1', 'worker', 'worker-pw'],
      ]),
    });
    expect(broker.wsPort).toBeGreaterThan(0);
    const url = `ws://127.0.0.1:${broker.wsPort}`;
    const refused = await mqtt
      .connectAsync(url, {
        clientId: 'scanmesh-worker-w1',
        username: 'w1',
        password: 'wrong',
        reconnectPeriod: 0,
      })
      .then(
        () => 'connected',
        (err: Error) => err.message,
      );
    expect(refused).toMatch(/Bad username or password/i);

    const master = await mqtt.connectAsync(url, {
      clientId: 'scanmesh-master-m1',
      username: 'm1',
      password: 'master-pw',
      reconnectPeriod: 0,
    });
    const worker = await mqtt.connectAsync(url, {
      clientId: 'scanmesh-worker-w1',
      username: 'w1',
      password: 'worker-pw',
      reconnectPeriod: 0,
    });
    const got: string[] = [];
    master.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await master.subscribeAsync('scanmesh/v1/workers/+/hello', { qos: 1 });
    const denied = await worker.subscribeAsync('scanmesh/v1/workers/w2/jobs', { qos: 1 }).then(
      (granted) => granted.map((g) => g.qos),
      (err: Error) => err.message,
    );
    expect(denied).toMatch(/Subscribe error/);
    await worker.publishAsync('scanmesh/v1/workers/w1/hello', 'hi', { qos: 1 });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['scanmesh/v1/workers/w1/hello hi']);
    await worker.endAsync();
    await master.endAsync();
  });
});
