/**
 * Child process: many lightweight workers, one mqtt.js client each (the project's client factory,
 * TCP_NODELAY), speaking the protocol without nmap, spool or validation, so that the master and
 * the broker are what a figure measures. Modes:
 *   worker  CL_HELLO on connect and on every S_HELLO; a JOB is answered at once with the DATA
 *           parts of a captured one-host scan; a last will CL_BYE, like a real worker's.
 *   echo    the raw limit: a message on `jobs` is answered with two DATA-sized messages.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { createMqttClient } from '../../../src/mqtt/client.ts';
import { parseNmapXml } from '../../../src/nmap/xml-stream.ts';
import { encode } from '../../../src/protocol/codec.ts';
import type { Data } from '../../../src/protocol/messages/data.ts';
import { createTopics } from '../../../src/protocol/topics.ts';
import { childConfig, exitWithParent, toParent } from '../lib/child.ts';
import { SMALL_FIXTURE } from '../lib/fake-nmap.ts';
import { epochMs } from '../lib/stats.ts';

export interface SimConfig {
  brokerPort: number;
  ids: string[];
  mode: 'worker' | 'echo';
  /** Persistent sessions, as real workers use; the raw limit runs without. */
  persistent: boolean;
  /** Connections being set up at once; a storm of thousands would overflow the accept queue. */
  connectConcurrency: number;
}

const c = childConfig<SimConfig>();
const topics = createTopics('scanmesh/v1/');
const scan = parseNmapXml(readFileSync(SMALL_FIXTURE, 'utf8'));
const clients: MqttClient[] = [];
let jobs = 0;

function hostPart(id: string, job: string, attempt: number): Data {
  const host = scan.hosts[0];
  if (!host) throw new Error('the fixture has no host');
  return { kind: 'DATA', worker: id, job, attempt, seq: 0, part: 'host', host };
}

function endPart(id: string, job: string, attempt: number, startedAt: number): Data {
  return {
    kind: 'DATA',
    worker: id,
    job,
    attempt,
    seq: 1,
    part: 'end',
    status: 'completed',
    exitCode: 0,
    error: '',
    code: '',
    meta: scan.meta,
    stats: scan.stats,
    startedAt,
    finishedAt: Date.now(),
  };
}

/** Connects one simulated worker; resolves once it has subscribed and said hello. */
function connect(id: string): Promise<void> {
  const client = createMqttClient(
    { url: `mqtt://127.0.0.1:${c.brokerPort}` },
    {
      clientId: `scanmesh-worker-${id}`,
      persistentSession: c.persistent,
      reconnectPeriodMs: 0,
      keepaliveS: 15, // as src/worker/worker.ts
      ...(c.mode === 'worker'
        ? {
            will: {
              topic: topics.worker(id, 'bye'),
              payload: encode({ kind: 'CL_BYE', worker: id }),
              qos: 1 as const,
              retain: false,
            },
          }
        : {}),
    },
  );
  clients.push(client);
  const held = new Map<string, { job: string; attempt: number }>();
  const hello = () =>
    client.publishAsync(
      topics.worker(id, 'hello'),
      encode({
        kind: 'CL_HELLO',
        worker: id,
        nmap: '7.93',
        slots: 1,
        running: [],
        held: [...held.values()],
      }),
      { qos: 1 },
    );
  const echo = {
    host: encode(hostPart(id, 'j-000000000000-1', 1)),
    end: encode(endPart(id, 'j-000000000000-1', 1, Date.now())),
  };
  client.on('message', (topic, payload) => {
    if (topic === topics.sHello()) return void hello();
    if (!topic.endsWith('/jobs')) {
      if (c.mode === 'worker' && topic.endsWith('/ack')) {
        const ack = JSON.parse(payload.toString()) as { job: string; attempt: number };
        held.delete(`${ack.job}#${ack.attempt}`);
      }
      return;
    }
    if (c.mode === 'echo') {
      client.publish(topics.worker(id, 'data'), echo.host, { qos: 1 });
      client.publish(topics.worker(id, 'data'), echo.end, { qos: 1 });
      return;
    }
    const msg = JSON.parse(payload.toString()) as { kind: string; job: string; attempt: number };
    if (msg.kind !== 'JOB') return;
    jobs += 1;
    const startedAt = Date.now();
    held.set(`${msg.job}#${msg.attempt}`, { job: msg.job, attempt: msg.attempt });
    client.publish(topics.worker(id, 'data'), encode(hostPart(id, msg.job, msg.attempt)), {
      qos: 1,
    });
    client.publish(
      topics.worker(id, 'data'),
      encode(endPart(id, msg.job, msg.attempt, startedAt)),
      { qos: 1 },
    );
  });
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.once('connect', () => {
      client
        .subscribeAsync({
          [topics.sHello()]: { qos: 0 },
          [topics.worker(id, 'jobs')]: { qos: 1 },
          [topics.worker(id, 'ack')]: { qos: 1 },
        })
        .then(() => (c.mode === 'worker' ? hello() : undefined))
        .then(() => resolve(), reject);
    });
  });
}

const startedAt = epochMs();
const queue = [...c.ids];
await Promise.all(
  Array.from({ length: c.connectConcurrency }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await connect(id);
  }),
);
await toParent({ type: 'connected', startedAt, doneAt: epochMs(), count: clients.length });

exitWithParent(async () => {
  // Ending the connections properly: no last will, as when a worker is stopped on purpose.
  await Promise.all(
    clients.map((client) => new Promise<void>((r) => client.end(false, {}, () => r()))),
  );
  await toParent({ type: 'stopped', jobs });
});
