import net from 'node:net';

export interface Listeners {
  ports: number[];
  close(): Promise<void>;
}

export interface ListenOptions {
  /**
   * What the i-th listener says on connect, e.g. an sshd banner: `-sV` then identifies it from its
   * NULL probe at once, where a silent listener makes nmap wait out every probe (about 30 s).
   */
  greeting?: (i: number) => string;
}

/** TCP listeners on `host`, each on a port the kernel picks, that accept and hold connections. */
export function openListeners(
  host: string,
  count: number,
  o: ListenOptions = {},
): Promise<Listeners> {
  return listen(
    host,
    Array.from({ length: count }, () => 0),
    o,
  );
}

/** Listeners on chosen ports of `host`: a port a later scan must find open. */
export function listenOn(host: string, ports: number[], o: ListenOptions = {}): Promise<Listeners> {
  return listen(host, ports, o);
}

async function listen(host: string, ports: number[], o: ListenOptions): Promise<Listeners> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (const [i, port] of ports.entries()) {
    const greeting = o.greeting?.(i);
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
      if (greeting !== undefined) s.write(greeting);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
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
