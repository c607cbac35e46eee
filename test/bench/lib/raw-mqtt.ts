import type { MqttClient } from 'mqtt';
import type { EmbeddedBroker } from '../../../src/broker/embedded.ts';
import type { Link } from '../../../src/mqtt/link.ts';
import { createMqttClient, type BrokerTarget } from '../../../src/mqtt/client.ts';
import { TOPIC_ROOT } from './mesh.ts';
import { nowMs } from './stats.ts';

/**
 * The limits the mesh is held against, measured with plain MQTT through the same broker and the
 * project's own client (TCP_NODELAY): no master logic, no durable writes, no validation.
 */
export function connectClient(target: BrokerTarget, clientId: string): Promise<MqttClient> {
  const client = createMqttClient(target, {
    clientId,
    persistentSession: false,
    reconnectPeriodMs: 0,
    keepaliveS: 60,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()));
}

export interface Pinger {
  /** One round trip of a QoS 1 request and a QoS 1 reply between two TCP clients, ms. */
  roundTrip(): Promise<number>;
  close(): Promise<void>;
}

/** Two TCP clients of the broker on `port` that bounce a JOB-sized message. */
export async function startPinger(port: number): Promise<Pinger> {
  const url = { url: `mqtt://127.0.0.1:${port}` };
  const a = await connectClient(url, 'bench-rtt-a');
  const b = await connectClient(url, 'bench-rtt-b');
  // Anonymous clients may use any topic under the mesh's root, and nothing else.
  const ping = `${TOPIC_ROOT}bench/rtt/ping`;
  const pong = `${TOPIC_ROOT}bench/rtt/pong`;
  await a.subscribeAsync(pong, { qos: 1 });
  await b.subscribeAsync(ping, { qos: 1 });
  b.on('message', (_t, payload) => void b.publish(pong, payload, { qos: 1 }));
  const payload = Buffer.alloc(300, 'x');
  const roundTrip = async () => {
    const started = nowMs();
    await new Promise<void>((resolve) => {
      a.once('message', () => resolve());
      a.publish(ping, payload, { qos: 1 });
    });
    return nowMs() - started;
  };
  for (let i = 0; i < 20; i++) await roundTrip(); // warms the JIT
  return {
    roundTrip,
    close: async () => {
      await endClient(a);
      await endClient(b);
    },
  };
}

/**
 * A link on the broker's own API, as the master has (local-link.ts), held to the master's ACL:
 * resolves once it hears `filter`.
 */
export async function openLocalLink(
  broker: EmbeddedBroker,
  filter: string,
  onMessage: (topic: string) => void,
): Promise<Link> {
  let ready!: () => void;
  const subscribed = new Promise<void>((resolve) => (ready = resolve));
  const link = broker.link(
    { filters: [filter], onReady: () => ready(), onMessage: (topic) => onMessage(topic) },
    'scanmesh-master-bench-raw',
  );
  await subscribed;
  return link;
}

export interface ExchangeRate {
  /** Request/reply exchanges per second, each 5 QoS 1 messages like one job. */
  exchangesPerS: number;
  messagesPerS: number;
}

/**
 * A job's traffic without the master: a link on the broker's own API (as the master has) sends each
 * echo worker a JOB-sized message, the worker answers with two DATA-sized messages, and the client
 * sends two ACK-sized messages and the next request. One exchange is the 5 QoS 1 messages of one
 * zero-work job with one host; each worker has one in flight, as a one-slot worker has.
 */
export async function rawExchangeRate(
  broker: EmbeddedBroker,
  ids: readonly string[],
  durationMs: number,
): Promise<ExchangeRate> {
  const root = TOPIC_ROOT;
  const job = Buffer.alloc(330, 'j');
  const ack = Buffer.alloc(80, 'a');
  const replies = new Map<string, number>();
  let exchanges = 0;
  let counting = false;
  let running = true;
  const send = (id: string) => {
    if (running) link.publish(`${root}workers/${id}/jobs`, job, 1);
  };
  const link = await openLocalLink(broker, `${root}workers/+/data`, (topic) => {
    const id = topic.slice(`${root}workers/`.length, -'/data'.length);
    const n = (replies.get(id) ?? 0) + 1;
    if (n < 2) return void replies.set(id, n);
    replies.set(id, 0);
    if (counting) exchanges += 1;
    link.publish(`${root}workers/${id}/ack`, ack, 1);
    link.publish(`${root}workers/${id}/ack`, ack, 1);
    send(id);
  });
  for (const id of ids) send(id);
  await new Promise((r) => setTimeout(r, Math.min(1000, durationMs / 4))); // warm-up
  counting = true;
  const started = nowMs();
  await new Promise((r) => setTimeout(r, durationMs));
  const elapsedS = (nowMs() - started) / 1000;
  counting = false;
  running = false;
  await new Promise((r) => setTimeout(r, 200)); // let the last exchanges drain
  await link.close();
  const exchangesPerS = exchanges / elapsedS;
  return { exchangesPerS, messagesPerS: exchangesPerS * 5 };
}
