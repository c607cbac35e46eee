import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import type { MqttClient } from 'mqtt';
import { loadConfig } from '../../config/load.ts';
import { workerSpec } from '../../config/roles.ts';
import { ScanmeshError } from '../../errors.ts';
import { createMqttClient } from '../../mqtt/client.ts';
import { reasonOf } from '../../mqtt/reconnect.ts';
import { decode } from '../../protocol/codec.ts';
import type { Status } from '../../protocol/messages/status.ts';
import { createTopics } from '../../protocol/topics.ts';
import { attributeOf } from '../options.ts';
import { renderStatus } from '../status-view.ts';

/** The connection keys, as a worker spells them (flags and SCANMESH_* variables). */
const statusSpec = workerSpec.filter((k) =>
  ['brokerUrl', 'username', 'password', 'topicRoot', 'tlsCa', 'tlsCert', 'tlsKey'].includes(k.key),
);
const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';

interface StatusOptions {
  json?: true;
  watch?: true;
  wait: string;
}

/**
 * `scanmesh status`: reads the master's retained S_STATUS and prints it as tables, as JSON
 * (`--json`), or keeps redrawing it (`--watch`). On a broker with accounts it logs in as a
 * master-role user: a worker account's client id belongs to that worker, and taking it would
 * disconnect the worker.
 */
export function statusCommand(): Command {
  const cmd = new Command('status').description(
    "show the master's status: workers, queue, progress (from its retained MQTT status)",
  );
  for (const k of statusSpec) {
    const extra = k.key === 'brokerUrl' ? ` (default: ${DEFAULT_BROKER_URL})` : '';
    cmd.option(
      k.flag,
      `${k.key === 'brokerUrl' ? 'the mesh broker' : k.describe} [${k.env}]${extra}`,
    );
  }
  cmd
    .option('--json', 'print the status message as JSON (one line per update with --watch)')
    .option('--watch', 'keep running and redraw on every update')
    .option('--wait <seconds>', 'how long to wait for a status before giving up', '5');
  return cmd.action(async () => {
    const opts = cmd.opts<StatusOptions & Record<string, unknown>>();
    const flags = Object.fromEntries(statusSpec.map((k) => [k.key, opts[attributeOf(k.flag)]]));
    const { config: c } = loadConfig<{
      brokerUrl?: string;
      username?: string;
      password?: string;
      topicRoot: string;
      tlsCa?: string;
      tlsCert?: string;
      tlsKey?: string;
    }>(statusSpec, { flags, env: process.env });
    const url = c.brokerUrl ?? DEFAULT_BROKER_URL;
    const topic = createTopics(c.topicRoot).status();
    const waitMs = Number(opts.wait) * 1000;
    if (!Number.isFinite(waitMs) || waitMs <= 0) {
      throw new ScanmeshError('SCANMESH_BAD_CONFIG', `--wait must be a positive number of seconds`);
    }
    const client = createMqttClient(
      { url },
      {
        clientId: `scanmesh-master-status-${randomBytes(4).toString('hex')}`,
        persistentSession: false,
        // One look gives up at the first refusal; --watch keeps trying like a worker would.
        reconnectPeriodMs: opts.watch ? 2000 : 0,
        keepaliveS: 30,
        ...(c.username ? { username: c.username } : {}),
        ...(c.password ? { password: c.password } : {}),
        ...(c.tlsCa ? { tlsCa: c.tlsCa } : {}),
        ...(c.tlsCert ? { tlsCert: c.tlsCert } : {}),
        ...(c.tlsKey ? { tlsKey: c.tlsKey } : {}),
      },
    );
    // Watching is waiting: keep trying after a refused login too (mqtt.js would stop).
    if (opts.watch) client.options.reconnectOnConnackError = true;
    try {
      if (opts.watch) await watch(client, topic, opts.json === true);
      else await once(client, topic, url, waitMs, opts.json === true);
    } finally {
      await new Promise<void>((r) => client.end(true, {}, () => r()));
    }
  });
}

/** The first (retained) status, printed once. */
function once(client: MqttClient, topic: string, url: string, waitMs: number, json: boolean) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new ScanmeshError(
          'SCANMESH_NO_STATUS',
          `no status on ${topic} within ${waitMs / 1000} s: is a master running on this broker, ` +
            'and has it finished its first hello round?',
        ),
      );
    }, waitMs);
    client.on('error', (err) => {
      if (client.connected) return;
      clearTimeout(timer);
      reject(
        new ScanmeshError('SCANMESH_BROKER_UNREACHABLE', `${url}: ${reasonOf(err)}`, {
          cause: err,
        }),
      );
    });
    client.on('connect', () => client.subscribe(topic, { qos: 1 }));
    client.on('message', (_t, payload) => {
      const status = parse(payload);
      if (!status) return;
      clearTimeout(timer);
      process.stdout.write(json ? `${JSON.stringify(status)}\n` : renderStatus(status, Date.now()));
      resolve();
    });
  });
}

/** Redraw on every update (and every second, so "updated 3s ago" stays true) until ^C. */
function watch(client: MqttClient, topic: string, json: boolean) {
  return new Promise<void>((resolve) => {
    const tty = process.stdout.isTTY === true && !json;
    let latest: Status | null = null;
    let problem = 'connecting…';
    const draw = () => {
      if (json) return;
      const body = latest ? renderStatus(latest, Date.now()) : '';
      const note = problem ? `(${problem})\n` : '';
      process.stdout.write(`${tty ? '\x1b[2J\x1b[H' : '\n'}${note}${body}`);
    };
    const tick = tty ? setInterval(draw, 1000) : null;
    client.on('error', (err) => {
      problem = `broker unreachable: ${reasonOf(err)}; retrying`;
      draw();
    });
    client.on('connect', () => {
      problem = '';
      client.subscribe(topic, { qos: 1 });
    });
    client.on('message', (_t, payload) => {
      const status = parse(payload);
      if (!status) return;
      latest = status;
      if (json) process.stdout.write(`${JSON.stringify(status)}\n`);
      else draw();
    });
    process.once('SIGINT', () => {
      if (tick) clearInterval(tick);
      resolve();
    });
  });
}

function parse(payload: Buffer): Status | null {
  try {
    return decode(payload, ['S_STATUS']);
  } catch (err) {
    console.error(`scanmesh: ignoring a malformed status: ${(err as Error).message}`);
    return null;
  }
}
