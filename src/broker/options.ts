import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MAX_PAYLOAD_BYTES } from '../protocol/codec.ts';
import { DEFAULT_ROOT, createTopics, type Topics } from '../protocol/topics.ts';
import { loadUsers, type UsersFile } from './users.ts';

export interface BrokerTlsOptions {
  /** PEM text, or the path of a PEM file. */
  cert: string;
  key: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  ca?: string;
}

export interface EmbeddedBrokerOptions {
  port: number;
  host: string;
  logger: Logger;
  /** Path of the users file, or its parsed contents. Required unless `allowAnonymous`. */
  users?: string | UsersFile;
  /** Anyone may connect and use the whole topic root. Loopback binds only. */
  allowAnonymous?: boolean;
  topicRoot?: string;
  tls?: BrokerTlsOptions;
  tlsPort?: number;
  /** MQTT over WebSocket on this port (same users and ACLs); absent: no WebSocket listener. */
  wsPort?: number;
  /** Largest MQTT packet body (remaining length) accepted; bigger ones cut the connection. */
  maxPacketBytes?: number;
}

const DEFAULTS = {
  allowAnonymous: false,
  topicRoot: DEFAULT_ROOT,
  tlsPort: 8883, // IANA port for MQTT over TLS
  // A full DATA payload plus room for the topic, packet id and MQTT framing.
  maxPacketBytes: MAX_PAYLOAD_BYTES + 4096, // bytes
};

// The MQTT remaining-length varint cannot encode more.
const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

export interface ResolvedBrokerOptions {
  port: number;
  host: string;
  logger: Logger;
  users: UsersFile | null;
  allowAnonymous: boolean;
  topics: Topics;
  tls: { cert: string; key: string; ca?: string; port: number } | null;
  wsPort: number | null;
  maxPacketBytes: number;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'port',
  'host',
  'logger',
  'users',
  'allowAnonymous',
  'topicRoot',
  'tls',
  'tlsPort',
  'wsPort',
  'maxPacketBytes',
]);

/** Validate once, before any socket opens; every refusal names the option and why. */
export async function resolveBrokerOptions(
  o: EmbeddedBrokerOptions,
): Promise<ResolvedBrokerOptions> {
  for (const k of Object.keys(o)) {
    if (KNOWN_KEYS.has(k)) continue;
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `broker option "${k}" refused: it is not an embedded broker option`,
    );
  }
  if (o.tlsPort !== undefined && o.tls === undefined) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', 'tlsPort is set but tls (cert and key) is not');
  }
  const allowAnonymous = o.allowAnonymous ?? DEFAULTS.allowAnonymous;
  if (allowAnonymous && !isLoopback(o.host)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `allowAnonymous needs a loopback bind address (127.x.x.x or ::1), not "${o.host}": anyone who can reach an anonymous broker can make every worker run nmap as root`,
    );
  }
  if (o.users === undefined && !allowAnonymous) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      'the embedded broker needs a users file (users) unless allowAnonymous is set',
    );
  }
  const root = o.topicRoot ?? DEFAULTS.topicRoot;
  if (root.startsWith('$')) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `topic root "${root}" must not start with "$"`);
  }
  const maxPacketBytes = o.maxPacketBytes ?? DEFAULTS.maxPacketBytes;
  if (
    !Number.isInteger(maxPacketBytes) ||
    maxPacketBytes < 64 ||
    maxPacketBytes > MQTT_MAX_REMAINING_LENGTH
  ) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `maxPacketBytes must be an integer from 64 to ${MQTT_MAX_REMAINING_LENGTH}, got ${maxPacketBytes}`,
    );
  }
  const users =
    o.users === undefined ? null : typeof o.users === 'string' ? await loadUsers(o.users) : o.users;
  return Object.freeze({
    port: o.port,
    host: o.host,
    logger: o.logger,
    users,
    allowAnonymous,
    topics: createTopics(root),
    tls: o.tls
      ? {
          cert: pem(o.tls.cert, 'tls.cert'),
          key: pem(o.tls.key, 'tls.key'),
          ...(o.tls.ca !== undefined ? { ca: pem(o.tls.ca, 'tls.ca') } : {}),
          port: o.tlsPort ?? DEFAULTS.tlsPort,
        }
      : null,
    wsPort: o.wsPort ?? null,
    maxPacketBytes,
  });
}

/** IP literals only: a name such as "localhost" could resolve anywhere. */
export function isLoopback(host: string): boolean {
  const loopback = new net.BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  const family = net.isIP(host);
  if (family === 0) return false;
  return loopback.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** PEM text as given, or read from a path. */
export function pem(valueOrPath: string, option: string): string {
  if (valueOrPath.includes('-----BEGIN ')) return valueOrPath;
  try {
    return readFileSync(valueOrPath, 'utf8');
  } catch (err) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `${option}: "${valueOrPath}" is neither PEM text nor a readable file`,
      { cause: err },
    );
  }
}
