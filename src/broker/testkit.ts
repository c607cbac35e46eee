/**
 * Test-only helpers for the broker tests: throwaway certificates, user files with a cheap scrypt
 * cost, and mqtt.js clients that never reconnect, so a refused connection stays refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Logger } from '../log.ts';
import { createMqttClient, type BrokerTarget, type ClientOptions } from '../mqtt/client.ts';
import { hashPassword, type Role, type ScryptParams, type UsersFile } from './users.ts';

/** scrypt cost for test users: the format and checks are the same, each check ~1 ms. */
export const CHEAP_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1, keylen: 32 };

export function testUsers(entries: [name: string, role: Role, password: string][]): UsersFile {
  return {
    version: 1,
    users: entries.map(([name, role, pw]) => hashPassword(name, role, pw, CHEAP_SCRYPT)),
  };
}

/** A logger that keeps its records, for asserting on error codes. */
export function recordingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const sink = { write: (line: string) => void records.push(JSON.parse(line)) };
  return { logger: pino({ level: 'debug' }, sink), records };
}

export interface TestClient {
  client: MqttClient;
  /** Every message received, in order. */
  received: { topic: string; payload: string }[];
  /** Resolves when the connection is gone. */
  closed: Promise<void>;
}

/**
 * Connect with the project's own client factory (TCP_NODELAY, MQTT 3.1.1, optional TLS) and
 * resolve on CONNACK 0; reject with mqtt.js' error (`code` = CONNACK return code or TLS error).
 */
export function connect(
  target: BrokerTarget,
  options: Partial<ClientOptions> & { clientId: string },
): Promise<TestClient> {
  const client = createMqttClient(target, {
    persistentSession: false,
    reconnectPeriodMs: 0,
    keepaliveS: 30,
    ...options,
  });
  const received: TestClient['received'] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve({ client, received, closed }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    void closed.then(() => reject(new Error('closed before CONNACK')));
  });
}

/**
 * SUBSCRIBE and return the SUBACK's granted codes, 128 included (mqtt.js rejects on any 128,
 * with the SUBACK attached).
 */
export async function granted(client: MqttClient, subs: Record<string, { qos: 0 | 1 }>) {
  try {
    return (await client.subscribeAsync(subs)).map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted;
  }
}

/** Poll until `check` holds: for arrivals whose timing the broker decides. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Self-signed for 127.0.0.1, trusted by nobody. */
  selfSignedCert: string;
  selfSignedKey: string;
  dispose(): void;
}

/**
 * A one-day CA with server and client certificates, made by `openssl` in a temp directory at
 * test time, so no private key is ever committed.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'scanmesh-pki-'));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const san = 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost';

  ssl(
    ...['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1'],
    ...['-subj', '/CN=scanmesh-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE'],
  );
  const sign = (name: string, cn: string, ext: string) => {
    writeFileSync(at(`${name}.ext`), `${ext}\n`);
    ssl(
      'req',
      '-new',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    ssl(
      ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key'],
      ...['-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`],
    );
  };
  sign('server', 'localhost', san);
  sign('client', 'w1', 'extendedKeyUsage=clientAuth');
  ssl(
    ...['req', '-x509', ...key, '-keyout', 'self.key', '-out', 'self.crt', '-days', '1'],
    ...['-subj', '/CN=localhost', '-addext', san],
  );
  const read = (name: string) => readFileSync(at(name), 'utf8');
  return {
    dir,
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    selfSignedCert: read('self.crt'),
    selfSignedKey: read('self.key'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
