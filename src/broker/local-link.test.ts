import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Link, LinkHandlers } from '../mqtt/link.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.ts';
import { connect, recordingLogger, testUsers, until, type TestClient } from './testkit.ts';

const R = 'scanmesh/v1/';
const users = testUsers([
  ['pi-a', 'worker', 'pw-a'],
  ['pi-b', 'worker', 'pw-b'],
]);

let broker: EmbeddedBroker;
let log: ReturnType<typeof recordingLogger>;
const open: TestClient[] = [];
const links: Link[] = [];

beforeAll(async () => {
  log = recordingLogger();
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: log.logger, users });
});
afterAll(() => broker.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.client.endAsync(true)));
  await Promise.all(links.splice(0).map((l) => l.close()));
});

const worker = async (name: 'pi-a' | 'pi-b', persistent = false) => {
  const c = await connect(
    { url: `mqtt://127.0.0.1:${broker.port}` },
    {
      clientId: `scanmesh-worker-${name}`,
      username: name,
      password: name === 'pi-a' ? 'pw-a' : 'pw-b',
      persistentSession: persistent,
    },
  );
  open.push(c);
  return c;
};

/** The master's link with the filters it uses, recording what it hears. */
async function masterLink(filters = [`${R}workers/+/hello`, `${R}workers/+/data`]) {
  const heard: { topic: string; payload: string }[] = [];
  let ready = 0;
  const handlers: LinkHandlers = {
    filters,
    onReady: () => void (ready += 1),
    onMessage: (topic, payload) => void heard.push({ topic, payload: payload.toString() }),
  };
  const link = broker.link(handlers, 'scanmesh-master-local');
  links.push(link);
  await until(() => ready > 0);
  return { link, heard, ready: () => ready };
}

const codes = () => log.records.map((r) => r.code).filter(Boolean);

describe('the master on Aedes directly (local-link.ts)', () => {
  it('delivers its jobs at QoS 1 to an online worker, and queues them for an offline one', async () => {
    const { link } = await masterLink();
    const a = await worker('pi-a', true);
    const qos: number[] = [];
    a.client.on('message', (_t, _p, packet) => qos.push(packet.qos));
    await a.client.subscribeAsync(`${R}workers/pi-a/jobs`, { qos: 1 });
    link.publish(`${R}workers/pi-a/jobs`, Buffer.from('job-1'), 1);
    await until(() => a.received.length === 1);
    expect(qos).toEqual([1]);

    await a.client.endAsync();
    open.splice(open.indexOf(a), 1);
    link.publish(`${R}workers/pi-a/jobs`, Buffer.from('job-2'), 1);
    const again = await worker('pi-a', true);
    await until(() => again.received.length === 1);
    expect(again.received).toEqual([{ topic: `${R}workers/pi-a/jobs`, payload: 'job-2' }]);
  });

  it('hears each worker on its own topics only: the broker refuses any other', async () => {
    const { heard } = await masterLink();
    const a = await worker('pi-a');
    const b = await worker('pi-b');
    await a.client.publishAsync(`${R}workers/pi-a/data`, 'from-a', { qos: 1 });
    // pi-b speaking on pi-a's topic: refused, and its connection closed (MQTT 3.1.1 has no NACK).
    b.client.publish(`${R}workers/pi-a/data`, 'forged', { qos: 1 });
    await b.closed;
    await a.client.publishAsync(`${R}workers/pi-a/hello`, 'hello-a', { qos: 1 });
    await until(() => heard.length === 2);
    expect(heard).toEqual([
      { topic: `${R}workers/pi-a/data`, payload: 'from-a' },
      { topic: `${R}workers/pi-a/hello`, payload: 'hello-a' },
    ]);
    expect(codes()).toContain('SCANMESH_NOT_AUTHORIZED');
  });

  it("retains the master's status for whoever subscribes later", async () => {
    const { link } = await masterLink();
    link.publish(`${R}master/status`, Buffer.from('status-1'), 1, true);
    const a = await worker('pi-a');
    const retained: boolean[] = [];
    a.client.on('message', (_t, _p, packet) => retained.push(packet.retain));
    await a.client.subscribeAsync(`${R}master/status`, { qos: 1 });
    await until(() => a.received.length === 1);
    expect(a.received[0]!.payload).toBe('status-1');
    expect(retained).toEqual([true]);
  });

  it('holds the master to the master ACL: no retained jobs, no listening to jobs', async () => {
    const before = log.records.length;
    const { link, heard } = await masterLink([`${R}workers/+/data`, `${R}workers/+/jobs`]);
    const a = await worker('pi-a');
    await a.client.subscribeAsync(`${R}workers/pi-a/jobs`, { qos: 1 });
    link.publish(`${R}workers/pi-a/jobs`, Buffer.from('retained-job'), 1, true);
    link.publish(`${R}workers/pi-a/data`, Buffer.from('as-a-worker'), 1);
    link.publish(`${R}workers/pi-a/jobs`, Buffer.from('job'), 1);
    await until(() => a.received.length === 1);
    expect(a.received.map((r) => r.payload)).toEqual(['job']);
    expect(heard).toEqual([]);
    const refusals = log.records.slice(before).filter((r) => r.code === 'SCANMESH_NOT_AUTHORIZED');
    expect(refusals.map((r) => r.msg)).toEqual([
      'subscribe refused',
      'publish refused',
      'publish refused',
    ]);
  });

  it('hears nothing and sends nothing once closed', async () => {
    const { link, heard } = await masterLink();
    const a = await worker('pi-a');
    await a.client.subscribeAsync(`${R}workers/pi-a/jobs`, { qos: 1 });
    await link.close();
    link.publish(`${R}workers/pi-a/jobs`, Buffer.from('late'), 1);
    await a.client.publishAsync(`${R}workers/pi-a/data`, 'late', { qos: 1 });
    await a.client.publishAsync(`${R}workers/pi-a/hello`, 'marker', { qos: 1 });
    const { heard: next } = await masterLink([`${R}workers/+/hello`]);
    await a.client.publishAsync(`${R}workers/pi-a/hello`, 'after', { qos: 1 });
    await until(() => next.length === 1);
    expect(heard).toEqual([]);
    expect(a.received).toEqual([]);
  });
});
