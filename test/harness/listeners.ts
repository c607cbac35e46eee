import net from 'node:net';

export interface Listeners {
  ports: number[];
  close(): Promise<void>;
}

/** TCP listeners on `host`, each on a port the kernel picks, that accept and hold connections. */
export async function openListeners(host: string, count: number): Promise<Listeners> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (let i = 0; i < count; i++) {
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as net.AddressInfo).port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(null)))));
    },
  };
}

/** A port on `host` that was just free: nothing listens there (a closed port for nmap). */
export async function closedPort(host: string): Promise<number> {
  const l = await openListeners(host, 1);
  const [port] = l.ports;
  await l.close();
  return port!;
}
