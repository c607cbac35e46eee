import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from './embedded.ts';
import { isLoopback } from './options.ts';
import { connect, granted, recordingLogger, testUsers, until } from './testkit.ts';

const R = 'scanmesh/v1/';
const logger = recordingLogger().logger;

describe('broker configuration', () => {
  // Non-loopback addresses here are refused before any listen: TEST-NET-1 (192.0.2.0/24) is
  // unroutable, so even a broken check could not expose a socket.
  it('refuses anonymous mode on a non-loopback bind address', async () => {
    for (const host of ['192.0.2.1', 'localhost']) {
      const start = startEmbeddedBroker({ port: 0, host, logger, allowAnonymous: true });
      await expect(start, host).rejects.toMatchObject({
        code: 'SCANMESH_BAD_CONFIG',
        message: expect.stringMatching(/loopback/),
      });
    }
  });

  it('refuses to start without a users file unless anonymous', async () => {
    await expect(startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger })).rejects.toMatchObject(
      { code: 'SCANMESH_BAD_CONFIG', message: expect.stringMatching(/users/) },
    );
    await expect(
      startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger, users: '/nonexistent/users.json' }),
    ).rejects.toMatchObject({ code: 'SCANMESH_BAD_CONFIG' });
  });

  it('refuses unknown options, a $ topic root and an impossible packet limit', async () => {
    const base = { port: 0, host: '127.0.0.1', logger, allowAnonymous: true };
    for (const extra of [{ allowAnonymus: false }, { tlsPort: 0 }]) {
      await expect(startEmbeddedBroker({ ...base, ...extra })).rejects.toMatchObject({
        code: 'SCANMESH_BAD_CONFIG',
        message: expect.stringMatching(Object.keys(extra)[0]!),
      });
    }
    await expect(startEmbeddedBroker({ ...base, topicRoot: '$SYS/' })).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
    });
    await expect(startEmbeddedBroker({ ...base, maxPacketBytes: 2 ** 28 })).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
    });
  });

  it('knows loopback literals', () => {
    const loopback = ['127.0.0.1', '127.9.9.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'];
    expect(loopback.filter((h) => !isLoopback(h))).toEqual([]);
    const others = ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'localhost', ''];
    expect(others.filter(isLoopback)).toEqual([]);
  });
});

describe('anonymous mode on loopback', () => {
  it('lets anyone do anything under the root, and nothing outside it', async () => {
    const broker = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      logger,
      allowAnonymous: true,
    });
    const at = { url: `mqtt://127.0.0.1:${broker.port}` };
    try {
      const sub = await connect(at, { clientId: 'anything' });
      const pub = await connect(at, { clientId: 'scanmesh-worker-whoever' });
      expect(await granted(sub.client, { [`${R}#`]: { qos: 1 }, '#': { qos: 1 } })).toEqual([
        1, 128,
      ]);
      await pub.client.publishAsync(`${R}workers/x/jobs`, 'job', { qos: 1 });
      await until(() => sub.received.length > 0);
      expect(sub.received).toEqual([{ topic: `${R}workers/x/jobs`, payload: 'job' }]);

      pub.client.publish('elsewhere/topic', 'outside', { qos: 1 });
      await pub.closed;
      await Promise.all([sub.client.endAsync(true)]);
    } finally {
      await broker.close();
    }
  });

  it('still checks credentials that are offered when a users file is loaded', async () => {
    const broker = await startEmbeddedBroker({
      port: 0,
      host: '::1',
      logger,
      allowAnonymous: true,
      users: testUsers([['pi-a', 'worker', 'pw-a']]),
    });
    const at = { url: `mqtt://[::1]:${broker.port}` };
    try {
      const anon = await connect(at, { clientId: 'x' });
      await expect(
        connect(at, { clientId: 'scanmesh-worker-pi-a', username: 'pi-a', password: 'nope' }),
      ).rejects.toMatchObject({ code: 4 });
      // A named worker is held to its own ACL even though anonymous clients are not.
      const a = await connect(at, {
        clientId: 'scanmesh-worker-pi-a',
        username: 'pi-a',
        password: 'pw-a',
      });
      expect(await granted(a.client, { [`${R}workers/pi-b/jobs`]: { qos: 1 } })).toEqual([128]);
      await Promise.all([anon.client.endAsync(true), a.client.endAsync(true)]);
    } finally {
      await broker.close();
    }
  });
});
