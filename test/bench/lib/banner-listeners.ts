import { openListeners, type Listeners } from '../../harness/listeners.ts';

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

/** `count` listeners on 127.0.0.1 (kernel-chosen ports), each greeting like one service. */
export function openBannerListeners(count: number): Promise<Listeners> {
  return openListeners('127.0.0.1', count, {
    greeting: (i) => BANNERS[i % BANNERS.length] as string,
  });
}
