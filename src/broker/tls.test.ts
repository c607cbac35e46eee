import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokerUrl } from '../mqtt/client.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.ts';
import {
  connect,
  makeTestPki,
  recordingLogger,
  testUsers,
  until,
  type TestPki,
} from './testkit.ts';

const R = 'scanmesh/v1/';
const users = testUsers([
  ['pi-a', 'worker', 'pw-a'],
  ['boss', 'master', 'pw-m'],
]);
const logger = recordingLogger().logger;
const workerLogin = { clientId: 'scanmesh-worker-pi-a', username: 'pi-a', password: 'pw-a' };

let pki: TestPki;
const brokers: EmbeddedBroker[] = [];
const start = async (tls: { cert: string; key: string; ca?: string }) => {
  const b = await startEmbeddedBroker({
    port: 0,
    host: '127.0.0.1',
    logger,
    users,
    tls,
    tlsPort: 0,
  });
  brokers.push(b);
  return { url: `mqtts://127.0.0.1:${b.tlsPort}`, tcp: `mqtt://127.0.0.1:${b.port}` };
};

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  pki.dispose();
});

describe('TLS listener', () => {
  it('serves a client that trusts the test CA, with auth and ACL unchanged', async () => {
    const { url } = await start({ cert: pki.serverCert, key: pki.serverKey });
    const m = await connect(
      { url },
      { clientId: 'scanmesh-master-t', username: 'boss', password: 'pw-m', tlsCa: pki.caCert },
    );
    await m.client.subscribeAsync(`${R}workers/+/data`, { qos: 1 });
    // The CA as a file path this time.
    const a = await connect({ url }, { ...workerLogin, tlsCa: join(pki.dir, 'ca.crt') });
    await a.client.publishAsync(`${R}workers/pi-a/data`, 'over-tls', { qos: 1 });
    await until(() => m.received.length > 0);
    expect(m.received).toEqual([{ topic: `${R}workers/pi-a/data`, payload: 'over-tls' }]);

    await expect(
      connect({ url }, { ...workerLogin, password: 'wrong', tlsCa: pki.caCert }),
    ).rejects.toMatchObject({ code: 4 });
    await Promise.all([m.client.endAsync(true), a.client.endAsync(true)]);
  });

  it('fails against a self-signed certificate under default verification', async () => {
    const { url } = await start({ cert: pki.selfSignedCert, key: pki.selfSignedKey });
    await expect(connect({ url }, workerLogin)).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    // Trusting some other CA does not help either.
    await expect(connect({ url }, { ...workerLogin, tlsCa: pki.caCert })).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('with a client CA, refuses a client without a certificate and admits one with', async () => {
    const { url, tcp } = await start({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert });
    // Refused in the handshake: the password is never even read.
    await expect(connect({ url }, { ...workerLogin, tlsCa: pki.caCert })).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    });

    const withCert = await mqtt.connectAsync(url, {
      ...workerLogin,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: pki.caCert,
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    expect(withCert.connected).toBe(true);
    await withCert.endAsync(true);

    // mTLS guards the TLS port only; the plain port still demands a password.
    await expect(connect({ url: tcp }, { clientId: 'x' })).rejects.toMatchObject({ code: 5 });
  });
});

describe('parseBrokerUrl', () => {
  it('knows mqtts and its default port', () => {
    expect(parseBrokerUrl('mqtts://[::1]')).toEqual({ protocol: 'mqtts', host: '::1', port: 8883 });
    expect(parseBrokerUrl('mqtt://127.0.0.1')).toEqual({
      protocol: 'mqtt',
      host: '127.0.0.1',
      port: 1883,
    });
    expect(() => parseBrokerUrl('ws://127.0.0.1')).toThrow(
      expect.objectContaining({ code: 'SCANMESH_BAD_CONFIG' }),
    );
  });
});
