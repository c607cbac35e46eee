import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { MqttClient, type IClientOptions } from 'mqtt';
import { ScanmeshError } from '../errors.ts';

/** How a client reaches its broker (a master beside an embedded broker links to it: link.ts). */
export type BrokerTarget = { url: string };

export interface ClientOptions {
  clientId: string;
  username?: string;
  password?: string;
  will?: IClientOptions['will'];
  /** Keep subscriptions and queued QoS 1 messages across reconnects. */
  persistentSession: boolean;
  reconnectPeriodMs: number;
  keepaliveS: number;
  /** For mqtts:// — the CA to trust instead of the system store: PEM text or a PEM file path. */
  tlsCa?: string;
  /** For mqtts:// — verify the broker's certificate and name. Default true; false only for tests. */
  rejectUnauthorized?: boolean;
  /** For mqtts:// to a broker that requires client certificates: PEM text or file paths. */
  tlsCert?: string;
  tlsKey?: string;
}

/**
 * Build an mqtt.js client over our own transport. mqtt.js leaves Nagle's algorithm on, which
 * turns every request/reply into ~40-90 ms of delayed-ACK waiting; we set TCP_NODELAY ourselves.
 * mqtt.js reconnects forever by calling the stream builder again.
 */
export function createMqttClient(target: BrokerTarget, options: ClientOptions): MqttClient {
  const streamBuilder = dialer(parseBrokerUrl(target.url), options);
  return new MqttClient(streamBuilder, {
    clientId: options.clientId,
    clean: !options.persistentSession,
    protocolVersion: 4,
    reconnectPeriod: options.reconnectPeriodMs,
    connectTimeout: 10_000,
    keepalive: options.keepaliveS,
    resubscribe: true,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.will ? { will: options.will } : {}),
    ...(process.env.DEBUG ? {} : { log: noop }),
  });
}

/**
 * mqtt.js calls its `debug` logger at every step of every packet, and a switched-off `debug` still
 * checks whether it is on each time: about a tenth of what a QoS 1 round trip costs the client.
 * Unless DEBUG asks for debug output, mqtt.js gets a logger that does nothing.
 */
function noop(): void {}

/** A socket factory for one broker URL; the URL and CA are read once, not per reconnect. */
function dialer(url: ReturnType<typeof parseBrokerUrl>, options: ClientOptions): () => net.Socket {
  const { protocol, host, port } = url;
  if (protocol === 'mqtt') {
    return () => net.connect({ host, port }).setNoDelay(true);
  }
  const tlsOptions: tls.ConnectionOptions = {
    host,
    port,
    ...(options.tlsCa !== undefined ? { ca: readPem(options.tlsCa) } : {}),
    ...(options.tlsCert !== undefined ? { cert: readPem(options.tlsCert) } : {}),
    ...(options.tlsKey !== undefined ? { key: readPem(options.tlsKey) } : {}),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    // SNI must be a DNS name (RFC 6066); for an IP literal Node checks the IP SANs instead.
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
  };
  return () => tls.connect(tlsOptions).setNoDelay(true);
}

export function parseBrokerUrl(raw: string): {
  protocol: 'mqtt' | 'mqtts';
  host: string;
  port: number;
} {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `broker URL "${raw}" is not a URL`, {
      cause: err,
    });
  }
  const secure = url.protocol === 'mqtts:';
  if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:' && !secure) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `broker URL "${raw}": scheme ${url.protocol} is not supported (use mqtt://HOST:PORT or mqtts://HOST:PORT)`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : secure ? 8883 : 1883;
  return { protocol: secure ? 'mqtts' : 'mqtt', host, port };
}

/** PEM text as given, or read from a path. */
function readPem(valueOrPath: string): string {
  if (valueOrPath.includes('-----BEGIN ')) return valueOrPath;
  try {
    return readFileSync(valueOrPath, 'utf8');
  } catch (err) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `tlsCa: "${valueOrPath}" is neither PEM text nor a readable file`,
      { cause: err },
    );
  }
}
