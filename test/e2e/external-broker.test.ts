import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostResult } from '../../src/nmap/result.ts';
import type { AttemptRecord } from '../../src/storage/attempt.ts';
import { spooledParts } from '../chaos/disk-state.ts';
import { closedPort, openListeners, type Listeners } from '../harness/listeners.ts';
import { startMosquitto, type MosquittoHandle } from '../harness/mosquitto.ts';
import { ScanmeshProcess, type LogLine } from '../harness/scanmesh-process.ts';

/**
 * `scanmesh master --broker-url` and `scanmesh worker` against a real Mosquitto that requires a
 * login and enforces the per-user topic ACL of the README's "External brokers" section, running
 * a real nmap scan of listeners this test opens on 127.0.0.1. The broker's refusals are observed
 * on the wire: the CONNACK code of a client without credentials, the PUBACK reason of a worker
 * publishing on another worker's topics, and the absence of those messages at a subscriber.
 */
const ROOT = 'scanmesh/v1/';
const USERS = { 'master-1': 'm-secret', w1: 'w1-secret', eve: 'eve-secret' } as const;
type User = keyof typeof USERS;

/**
 * The README's ACL (%u is the username, which is the worker id) plus the master's retained status
 * topic: the master publishes it every hello round, and without these lines and with the README's
 * `retain_available false` Mosquitto drops the master's connection each round.
 */
const ACL = `user master-1
topic write ${ROOT}master/hello
topic readwrite ${ROOT}master/status
topic write ${ROOT}workers/+/jobs
topic write ${ROOT}workers/+/ack
topic read  ${ROOT}workers/+/hello
topic read  ${ROOT}workers/+/bye
topic read  ${ROOT}workers/+/data

pattern write ${ROOT}workers/%u/hello
pattern write ${ROOT}workers/%u/data
pattern write ${ROOT}workers/%u/bye
pattern read  ${ROOT}master/hello
pattern read  ${ROOT}master/status
pattern read  ${ROOT}workers/%u/jobs
pattern read  ${ROOT}workers/%u/ack
`;

/** The README's broker-wide settings but retain; the harness supplies the loopback listener. */
const SETTINGS = (dir: string) => `password_file ${join(dir, 'passwd')}
acl_file ${join(dir, 'acl')}
max_packet_size 1052677
`;

interface Stored {
  record: AttemptRecord;
  hosts: HostResult[];
}

describe('master and worker on an external Mosquitto with logins and ACLs', () => {
  let dir: string;
  let broker: MosquittoHandle;
  let listeners: Listeners;
  let closed: number;
  let master: ScanmeshProcess;
  let worker: ScanmeshProcess;
  const clients: MqttClient[] = [];

  /**
   * The harness starts an anonymous Mosquitto and takes the binary to run; this wrapper turns
   * its config into the README's: anonymous off, password file and ACL on, same listener.
   */
  async function secureMosquittoBinary(): Promise<string> {
    const run = promisify(execFile);
    await run('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'master-1', USERS['master-1']]);
    for (const user of ['w1', 'eve'] as const) {
      await run('mosquitto_passwd', ['-b', join(dir, 'passwd'), user, USERS[user]]);
    }
    await chmod(join(dir, 'passwd'), 0o600);
    await writeFile(join(dir, 'acl'), ACL, { mode: 0o600 });
    await writeFile(join(dir, 'settings.conf'), SETTINGS(dir));
    const binary = join(dir, 'mosquitto');
    const conf = join(dir, 'secure.conf');
    await writeFile(
      binary,
      [
        '#!/bin/sh',
        '# Called as: mosquitto -c <the harness config>',
        `{ echo 'per_listener_settings false'; sed 's/^allow_anonymous true$/allow_anonymous false/' "$2"; cat '${join(dir, 'settings.conf')}'; } > '${conf}'`,
        `exec mosquitto -c '${conf}'`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    return binary;
  }

  /** A raw mqtt.js client that records every packet the broker sends it. */
  function wireClient(opts: IClientOptions): { client: MqttClient; packets: Packet[] } {
    const packets: Packet[] = [];
    const client = mqtt.connect(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    client.on('packetreceive', (p) => packets.push(p));
    client.on('error', () => undefined); // refusals are read from `packets`
    clients.push(client);
    return { client, packets };
  }
  const login = (user: User, clientId: string): IClientOptions => ({
    username: user,
    password: USERS[user],
    clientId,
  });
  /** Resolves with the broker's CONNACK, whether it accepts or refuses. */
  async function connack(packets: Packet[]): Promise<Packet> {
    await until(() => packets.some((p) => p.cmd === 'connack'), 'a CONNACK');
    return packets.find((p) => p.cmd === 'connack')!;
  }

  const is = (msg: string) => (l: LogLine) => l.msg === msg;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-external-'));
    broker = await startMosquitto(await secureMosquittoBinary());
    listeners = await openListeners('127.0.0.1', 2);
    closed = await closedPort('127.0.0.1');
    const commands = join(dir, 'commands.txt');
    await writeFile(
      commands,
      `nmap -sT -Pn -p ${[...listeners.ports, closed].join(',')} 127.0.0.1\n`,
    );
    master = new ScanmeshProcess(
      [
        'master',
        '--broker-url',
        broker.url,
        '--username',
        'master-1',
        '--commands',
        commands,
        '--state-dir',
        join(dir, 'master'),
        '--hello-interval',
        '1',
      ],
      // The env var, as the README advises: a flag would show the password in ps.
      { SCANMESH_PASSWORD: USERS['master-1'] },
    );
    await master.waitFor(is('connected to broker; discovering workers'), 30_000, 'the master');
    worker = new ScanmeshProcess(
      [
        'worker',
        '--broker-url',
        broker.url,
        '--id',
        'w1',
        '--username',
        'w1',
        '--state-dir',
        join(dir, 'w1'),
        '--master-key',
        join(dir, 'master', 'master.pub'),
      ],
      { SCANMESH_PASSWORD: USERS.w1 },
    );
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await worker?.kill('SIGTERM');
    await master?.kill('SIGTERM');
    await broker?.close();
    await listeners?.close();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('runs a real nmap scan through the broker and files exactly the opened ports', async () => {
    const done = await master.waitFor(is('job done'), 60_000, 'the scan to finish');
    expect(done.worker).toBe('w1');
    const resultsDir = join(dir, 'master', 'results');
    const names = (await readdir(resultsDir)).filter((n) => n.endsWith('.json'));
    expect(names).toHaveLength(1);
    const stored = JSON.parse(await readFile(join(resultsDir, names[0]!), 'utf8')) as Stored;
    expect(stored.record).toMatchObject({ job: done.job, worker: 'w1', status: 'completed' });
    expect(stored.hosts.map((h) => h.address)).toEqual(['127.0.0.1']);
    const ports = stored.hosts[0]!.ports.map((p) => `${p.port}/${p.state}`).sort();
    expect(ports).toEqual([...listeners.ports.map((p) => `${p}/open`), `${closed}/closed`].sort());
    // Every part the worker spooled comes back acknowledged through the broker (DATA_ACK).
    await until(async () => (await spooledParts(join(dir, 'w1'))) === 0, 'an empty spool');
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    const anonymous = wireClient({ clientId: 'anonymous', protocolVersion: 5 });
    // MQTT 5 reason 0x87: not authorized.
    expect(await connack(anonymous.packets)).toMatchObject({ cmd: 'connack', reasonCode: 135 });
    // Mosquitto 2.0 answers a wrong password with 0x87 too, not 0x86 (bad user name or password).
    const guessing = wireClient({ ...login('w1', 'guess'), password: 'nope', protocolVersion: 5 });
    expect(await connack(guessing.packets)).toMatchObject({ cmd: 'connack', reasonCode: 135 });
    // What scanmesh itself speaks (3.1.1): return code 5, not authorized.
    const v4 = wireClient({ clientId: 'anonymous-v4', protocolVersion: 4 });
    expect(await connack(v4.packets)).toMatchObject({ cmd: 'connack', returnCode: 5 });
  });

  it("drops a worker's publishes on another worker's topics: refused on the wire, never delivered", async () => {
    // Two observers with the accounts allowed to read what eve targets.
    const seen: { topic: string; payload: string }[] = [];
    for (const [user, topic] of [
      ['master-1', `${ROOT}workers/+/data`],
      ['w1', `${ROOT}workers/w1/jobs`],
    ] as const) {
      const { client, packets } = wireClient(login(user, `observer-${user}`));
      expect(await connack(packets)).toMatchObject({ returnCode: 0 });
      client.on('message', (t, p) => seen.push({ topic: t, payload: p.toString() }));
      await client.subscribeAsync(topic, { qos: 1 });
    }
    const eve = wireClient({ ...login('eve', 'eve'), protocolVersion: 5 });
    expect(await connack(eve.packets)).toMatchObject({ reasonCode: 0 });
    const forged = (what: string) => JSON.stringify({ kind: 'FORGED', what });
    /** The publish's outcome: the PUBACK's reason code, 0 when accepted. */
    const publish = (topic: string, payload: string) =>
      eve.client.publishAsync(topic, payload, { qos: 1 }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
    // MQTT 5 reason 0x87 (not authorized) for both forgeries.
    expect(await publish(`${ROOT}workers/w1/data`, forged('data as w1'))).toBe(135);
    expect(await publish(`${ROOT}workers/w1/jobs`, forged('job for w1'))).toBe(135);
    // Her own data topic is open to her: once this arrives, anything sent before it would have.
    expect(await publish(`${ROOT}workers/eve/data`, forged('sentinel'))).toBe(0);
    await until(() => seen.some((m) => m.payload.includes('sentinel')), 'the sentinel');

    // The broker kept her connection: a refused publish is answered, not a reason to disconnect.
    expect(eve.client.connected).toBe(true);
    expect(seen.filter((m) => m.payload.includes('FORGED')).map((m) => m.topic)).toEqual([
      `${ROOT}workers/eve/data`,
    ]);
  });
});

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
