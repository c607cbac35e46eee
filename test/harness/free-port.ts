import { createServer, type Server } from 'node:net';

/**
 * `count` distinct TCP ports on 127.0.0.1 that were free a moment ago: the kernel picks each for a
 * listener on port 0; all listeners stay open until every port is read, so no port is handed out
 * twice, then they close. Another process may still take a port before the caller binds it, so
 * callers that hand ports to a child process retry on "address already in use".
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnZero(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map(closeQuietly));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

function listenOnZero(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('listening on port 0 gave no TCP address'));
      } else {
        resolve(address.port);
      }
    });
  });
}

function closeQuietly(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
