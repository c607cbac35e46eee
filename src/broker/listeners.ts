import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';

/** A listening server; close() also destroys the sockets it accepted instead of waiting. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

type OnSocket = (socket: net.Socket) => void;

// A TLS client that opens a socket and never finishes the handshake holds a slot until this.
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Plain MQTT. TCP_NODELAY so small QoS 1 round trips are not held back by Nagle. */
export function listenTcp(port: number, host: string, onSocket: OnSocket): Promise<Listener> {
  return listen(net.createServer({ noDelay: true }), 'connection', port, host, onSocket);
}

/**
 * MQTT over TLS. With a `ca`, the handshake itself refuses clients without a certificate signed
 * by it, so such a client never reaches aedes.
 */
export function listenTls(
  options: { cert: string; key: string; ca?: string },
  port: number,
  host: string,
  onSocket: OnSocket,
  onHandshakeError: (err: Error, remote: string | undefined) => void,
): Promise<Listener> {
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    minVersion: 'TLSv1.2',
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    ...(options.ca !== undefined
      ? { ca: options.ca, requestCert: true, rejectUnauthorized: true }
      : {}),
  });
  server.on('tlsClientError', (err, socket) => onHandshakeError(err, socket.remoteAddress));
  return listen(server, 'secureConnection', port, host, (socket) => {
    socket.setNoDelay(true);
    onSocket(socket);
  });
}

async function listen(
  server: net.Server,
  event: 'connection' | 'secureConnection',
  port: number,
  host: string,
  onSocket: OnSocket,
): Promise<Listener> {
  // Tracked from the raw TCP accept, so a TLS client still in its handshake is closed too.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on(event, onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * MQTT over WebSocket (subprotocol "mqtt"), for clients that can only speak HTTP. Each WebSocket
 * becomes a byte stream, so aedes sees the same packets and applies the same login and ACLs.
 */
export async function listenWs(
  port: number,
  host: string,
  maxPayload: number,
  onStream: (stream: Duplex) => void,
): Promise<Listener> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
  });
  const wss = new WebSocketServer({
    server,
    maxPayload,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    onStream(createWebSocketStream(ws));
  });
  const listener = await listen(server, 'connection', port, host, () => undefined);
  return {
    port: listener.port,
    close: async () => {
      wss.close();
      await listener.close();
    },
  };
}
