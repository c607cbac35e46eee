import net from 'node:net';

/**
 * Banners of services nmap -sV recognises from its NULL probe, so version detection ends at the
 * first answer as it does against real daemons. Silent listeners would make every -sV scan wait
 * out nmap's probe timeouts (half a minute), which measures nmap's patience, not the mesh.
 */
const BANNERS = [
  'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n',
  '220 (vsFTPd 3.0.3)\r\n',
  '220 mail.bench.example ESMTP Postfix (Debian/GNU)\r\n',
  '+OK Dovecot ready.\r\n',
];

export interface BannerListeners {
  ports: number[];
  close(): Promise<void>;
}

/** `count` listeners on 127.0.0.1 (kernel-chosen ports), each greeting like one service. */
export async function openBannerListeners(count: number): Promise<BannerListeners> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (let i = 0; i < count; i++) {
    const banner = BANNERS[i % BANNERS.length] as string;
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
      s.write(banner);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
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
