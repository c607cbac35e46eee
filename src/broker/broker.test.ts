import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../protocol/codec.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.ts';
import { connect, granted, recordingLogger, testUsers, until, type TestClient } from './testkit.ts';

const R = 'scanmesh/v1/';
const users = testUsers([
  ['pi-a', 'worker', 'pw-a'],
  ['pi-b', 'worker', 'pw-b'],
  ['boss', 'master', 'pw-m'],
]);

let broker: EmbeddedBroker;
let log: ReturnType<typeof recordingLogger>;
const open: TestClient[] = [];

beforeAll(async () => {
  log = recordingLogger();
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: log.logger, users });
});
afterAll(() => broker.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.client.endAsync(true)));
});

const url = () => ({ url: `mqtt://127.0.0.1:${broker.port}` });
const track = async (p: Promise<TestClient>) => {
  const c = await p;
  open.push(c);
  return c;
};
const worker = (name: 'pi-a' | 'pi-b', extra: Parameters<typeof connect>[1] | object = {}) =>
  track(
    connect(url(), {
      clientId: `scanmesh-worker-${name}`,
      username: name,
      password: name === 'pi-a' ? 'pw-a' : 'pw-b',
      ...extra,
    }),
  );
const master = () =>
  track(connect(url(), { clientId: 'scanmesh-master-t', username: 'boss', password: 'pw-m' }));
const codes = () => log.records.map((r) => r.code).filter(Boolean);

describe('authentication', () => {
  it('refuses a client without credentials: CONNACK 5 (not authorized)', async () => {
    await expect(connect(url(), { clientId: 'scanmesh-worker-pi-a' })).rejects.toMatchObject({
      code: 5,
    });
    expect(codes()).toContain('SCANMESH_AUTH_FAILED');
  });

  it('refuses an unknown user and a wrong password: CONNACK 4', async () => {
    const as = (username: string, password: string) =>
      connect(url(), { clientId: `scanmesh-worker-${username}`, username, password });
    await expect(as('pi-a', 'pw-b')).rejects.toMatchObject({ code: 4 });
    await expect(as('pi-z', 'pw-a')).rejects.toMatchObject({ code: 4 });
    await expect(as('pi-a', '')).rejects.toMatchObject({ code: 4 });
  });

  it('accepts the right password', async () => {
    const a = await worker('pi-a');
    expect(a.client.connected).toBe(true);
  });

  it("refuses a worker using another worker's client id, or a master's", async () => {
    await expect(worker('pi-a', { clientId: 'scanmesh-worker-pi-b' })).rejects.toMatchObject({
      code: 5,
    });
    await expect(worker('pi-a', { clientId: 'scanmesh-master-x' })).rejects.toMatchObject({
      code: 5,
    });
    expect(codes()).toContain('SCANMESH_NOT_AUTHORIZED');
  });

  it("refuses a will on another worker's bye topic", async () => {
    const will = { topic: `${R}workers/pi-b/bye`, payload: Buffer.from('x'), qos: 1 as const };
    await expect(worker('pi-a', { will })).rejects.toMatchObject({ code: 5 });
  });
});

describe('ACL on the wire', () => {
  it("delivers a worker's own data; drops its publish on another worker's data and disconnects it", async () => {
    const m = await master();
    expect(await m.client.subscribeAsync(`${R}workers/+/data`, { qos: 1 })).toMatchObject([
      { qos: 1 },
    ]);
    const a = await worker('pi-a');
    const b = await worker('pi-b');

    await a.client.publishAsync(`${R}workers/pi-a/data`, 'a-own', { qos: 1 });
    a.client.publish(`${R}workers/pi-b/data`, 'forged-by-a', { qos: 1 });
    await a.closed;
    // A sentinel through the same broker: once it arrives, the forged message had its chance.
    await b.client.publishAsync(`${R}workers/pi-b/data`, 'b-own', { qos: 1 });
    await until(() => m.received.some((r) => r.payload === 'b-own'));

    expect(m.received).toEqual([
      { topic: `${R}workers/pi-a/data`, payload: 'a-own' },
      { topic: `${R}workers/pi-b/data`, payload: 'b-own' },
    ]);
  });

  it("refuses a worker's subscription to another worker's jobs (SUBACK 0x80)", async () => {
    const a = await worker('pi-a');
    const codes = await granted(a.client, {
      [`${R}workers/pi-b/jobs`]: { qos: 1 },
      [`${R}workers/+/jobs`]: { qos: 1 },
      [`${R}workers/pi-a/jobs`]: { qos: 1 },
    });
    expect(codes).toEqual([128, 128, 1]);
    expect(a.client.connected).toBe(true);

    const m = await master();
    await m.client.publishAsync(`${R}workers/pi-b/jobs`, 'job-for-b', { qos: 1 });
    await m.client.publishAsync(`${R}workers/pi-a/jobs`, 'job-for-a', { qos: 1 });
    await until(() => a.received.length > 0);
    expect(a.received).toEqual([{ topic: `${R}workers/pi-a/jobs`, payload: 'job-for-a' }]);
  });

  it('lets only the master publish jobs', async () => {
    const a = await worker('pi-a');
    await a.client.subscribeAsync(`${R}workers/pi-a/jobs`, { qos: 1 });
    const b = await worker('pi-b');
    b.client.publish(`${R}workers/pi-a/jobs`, 'job-from-b', { qos: 1 });
    await b.closed;

    const m = await master();
    await m.client.publishAsync(`${R}workers/pi-a/jobs`, 'job-from-master', { qos: 1 });
    await until(() => a.received.length > 0);
    // A worker cannot queue work for itself either.
    a.client.publish(`${R}workers/pi-a/jobs`, 'job-from-a', { qos: 1 });
    await a.closed;

    expect(a.received).toEqual([{ topic: `${R}workers/pi-a/jobs`, payload: 'job-from-master' }]);
  });

  it('refuses retained messages from account holders', async () => {
    const a = await worker('pi-a');
    await a.client.subscribeAsync(`${R}workers/pi-a/jobs`, { qos: 1 });
    const m = await master();
    m.client.publish(`${R}workers/pi-a/jobs`, 'retained-job', { qos: 1, retain: true });
    await m.closed;

    const m2 = await master();
    await m2.client.publishAsync(`${R}workers/pi-a/jobs`, 'plain-job', { qos: 1 });
    await until(() => a.received.length > 0);
    expect(a.received.map((r) => r.payload)).toEqual(['plain-job']);
  });

  it("publishes a worker's will on its own bye when it drops", async () => {
    const m = await master();
    await m.client.subscribeAsync(`${R}workers/+/bye`, { qos: 1 });
    const will = { topic: `${R}workers/pi-a/bye`, payload: Buffer.from('gone'), qos: 1 as const };
    const a = await worker('pi-a', { will });
    a.client.stream.destroy();
    await until(() => m.received.length > 0);
    expect(m.received).toEqual([{ topic: `${R}workers/pi-a/bye`, payload: 'gone' }]);
  });
});

describe('packet size', () => {
  it('carries a full 1 MiB DATA payload under the default limit', async () => {
    const m = await master();
    await m.client.subscribeAsync(`${R}workers/+/data`, { qos: 1 });
    const a = await worker('pi-a');
    await a.client.publishAsync(`${R}workers/pi-a/data`, Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61), {
      qos: 1,
    });
    await until(() => m.received.length > 0);
    expect(m.received[0]!.payload).toHaveLength(MAX_PAYLOAD_BYTES);
  });

  it('cuts a connection at the first packet over maxPacketBytes', async () => {
    const small = recordingLogger();
    const b2 = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      logger: small.logger,
      users,
      maxPacketBytes: 4096,
    });
    try {
      const at = { url: `mqtt://127.0.0.1:${b2.port}` };
      const login = (name: string, pw: string) =>
        connect(at, { clientId: `scanmesh-worker-${name}`, username: name, password: pw });
      const m = await connect(at, {
        clientId: 'scanmesh-master-t',
        username: 'boss',
        password: 'pw-m',
      });
      await m.client.subscribeAsync(`${R}workers/+/data`, { qos: 1 });
      const a = await login('pi-a', 'pw-a');
      const b = await login('pi-b', 'pw-b');

      a.client.publish(`${R}workers/pi-a/data`, Buffer.alloc(5000), { qos: 1 });
      await a.closed;
      await b.client.publishAsync(`${R}workers/pi-b/data`, Buffer.alloc(4000, 0x62), { qos: 1 });
      await until(() => m.received.length > 0);

      expect(m.received.map((r) => [r.topic, r.payload.length])).toEqual([
        [`${R}workers/pi-b/data`, 4000],
      ]);
      expect(small.records.map((r) => r.code)).toContain('SCANMESH_PACKET_TOO_LARGE');
      await Promise.all([m.client.endAsync(true), b.client.endAsync(true)]);
    } finally {
      await b2.close();
    }
  });

  it('cuts a connection from a header that declares a huge packet, without waiting for it', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: broker.port });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // PUBLISH with remaining length 268 435 455, and not one byte of it: without the guard the
    // broker would wait (connectTimeout is 30 s) to buffer all 256 MiB.
    socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
