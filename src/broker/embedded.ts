import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import type { LocalBroker } from '../mqtt/link.ts';
import { createAuthHandlers } from './auth.ts';
import { guardPacketSize } from './frame-guard.ts';
import { listenTcp, listenTls, listenWs, type Listener } from './listeners.ts';
import { localLink } from './local-link.ts';
import { resolveBrokerOptions, type EmbeddedBrokerOptions } from './options.ts';

export type { BrokerTlsOptions, EmbeddedBrokerOptions } from './options.ts';

export interface EmbeddedBroker {
  readonly port: number;
  readonly host: string;
  /** The TLS listener's port, when `tls` was given. */
  readonly tlsPort?: number;
  /** The WebSocket listener's port, when `wsPort` was given. */
  readonly wsPort?: number;
  /**
   * The master in this process, on Aedes' own API without MQTT (local-link.ts), as
   * `{ local: broker }`. Only code in this process can reach it, so it needs no password; it is
   * still held to the master ACL.
   */
  link: LocalBroker['link'];
  close(): Promise<void>;
}

/**
 * Aedes behind a TCP listener and, optionally, a TLS one. Aedes only ever sees streams; this
 * file decides which streams reach it and how far each is trusted:
 * - every socket must log in (auth.ts) and is held to its role's topics (acl.ts);
 * - every stream is cut at its first packet over `maxPacketBytes` (frame-guard.ts);
 * - `link` is the master itself.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const o = await resolveBrokerOptions(options);
  const log = o.logger;

  const auth = createAuthHandlers({
    users: o.users,
    allowAnonymous: o.allowAnonymous,
    topics: o.topics,
    logger: log,
  });
  const aedes = await Aedes.createBroker({ id: 'scanmesh', ...auth });
  aedes.on('clientError', (client, err) => {
    log.debug({ client: client.id, err: err.message }, 'mqtt client error');
  });

  const handle = (stream: Duplex) => {
    guardPacketSize(stream, o.maxPacketBytes, (reason) => {
      log.warn({ code: 'SCANMESH_PACKET_TOO_LARGE', reason }, 'mqtt connection closed');
    });
    aedes.handle(stream);
  };

  const listeners: Listener[] = [];
  let ws: Listener | null = null;
  try {
    listeners.push(await listenTcp(o.port, o.host, handle));
    if (o.tls) {
      const onHandshakeError = (err: Error, remote: string | undefined) =>
        log.debug({ remote, err: err.message }, 'tls handshake failed');
      listeners.push(await listenTls(o.tls, o.tls.port, o.host, handle, onHandshakeError));
    }
    if (o.wsPort !== null) ws = await listenWs(o.wsPort, o.host, o.maxPacketBytes, handle);
  } catch (err) {
    if (ws) listeners.push(ws);
    await Promise.all(listeners.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const [tcp, secure] = listeners as [Listener, Listener | undefined];
  if (ws) listeners.push(ws);
  log.info(
    {
      host: o.host,
      port: tcp.port,
      tlsPort: secure?.port,
      wsPort: ws?.port,
      anonymous: o.allowAnonymous,
      users: o.users?.users.length ?? 0,
    },
    'embedded broker listening',
  );
  return {
    port: tcp.port,
    host: o.host,
    ...(secure ? { tlsPort: secure.port } : {}),
    ...(ws ? { wsPort: ws.port } : {}),
    link: (handlers, clientId) => localLink(aedes, o.topics, handlers, clientId, log),
    close: async () => {
      // Aedes first: it disconnects every client, so the listeners do not wait on them.
      const closed = Promise.all(listeners.map((l) => l.close()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}
