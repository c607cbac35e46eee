import { createServer, request, Agent, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * InfluxDB 1.x's HTTP API without a client library: the limit the project's writer is held to.
 * A one-connection keep-alive agent, as the writer's pool uses for sequential writes.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function call(url: string, method: string, path: string, body?: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, agent }, (res: IncomingMessage) => {
      res.resume();
      res.once('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode}`));
        else resolve(res.statusCode ?? 0);
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}

export async function createDatabase(url: string, db: string): Promise<void> {
  await call(url, 'POST', `/query?q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}`);
}

export async function dropDatabase(url: string, db: string): Promise<void> {
  await call(url, 'POST', `/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`);
}

/** POSTs each body (line protocol, ns precision) in order, one at a time. */
export async function postLines(url: string, db: string, bodies: readonly string[]): Promise<void> {
  for (const body of bodies) {
    await call(url, 'POST', `/write?db=${encodeURIComponent(db)}&precision=n`, body);
  }
}

export interface Capture {
  readonly url: string;
  /** Bodies of every POST /write, in order. */
  readonly bodies: string[];
  close(): Promise<void>;
}

/**
 * A stand-in InfluxDB on 127.0.0.1 that keeps what it is sent and answers 204: shows the exact
 * line protocol the project's writer produces, so the raw POST sends the very same points.
 */
export async function captureInflux(): Promise<Capture> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/write')) bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
