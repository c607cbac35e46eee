import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { footerXml, headerXml } from '../../harness/fake-nmap.ts';

/**
 * nmap -sV style XML of many hosts, generated: five open ports per host with service, product,
 * version and CPEs, a PTR name and 995 closed ports summed up, about 1.3 KB a host, as nmap 7.93
 * writes them. Addresses are loopback ones: this is data in a file, nothing is scanned.
 */
const SERVICES = [
  [22, 'ssh', 'OpenSSH', '9.2p1 Debian 2+deb12u3', 'protocol 2.0', 'cpe:/a:openbsd:openssh:9.2p1'],
  [25, 'smtp', 'Postfix smtpd', '', '', 'cpe:/a:postfix:postfix'],
  [80, 'http', 'nginx', '1.22.1', '', 'cpe:/a:igor_sysoev:nginx:1.22.1'],
  [443, 'http', 'nginx', '1.22.1', 'TLS', 'cpe:/a:igor_sysoev:nginx:1.22.1'],
  [3306, 'mysql', 'MySQL', '8.0.36', '', 'cpe:/a:mysql:mysql:8.0.36'],
] as const;

const START_S = 1_795_267_542;

export function hostXml(i: number): string {
  const addr = `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const ports = SERVICES.map(
    ([port, name, product, version, extra, cpe]) =>
      `<port protocol="tcp" portid="${port}"><state state="open" reason="syn-ack" reason_ttl="0"/>` +
      `<service name="${name}" product="${product}"${version ? ` version="${version}"` : ''}` +
      `${extra ? ` extrainfo="${extra}"` : ''} ostype="Linux" method="probed" conf="10">` +
      `<cpe>${cpe}</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port>\n`,
  ).join('');
  return (
    `<host starttime="${START_S}" endtime="${START_S + 1}"><status state="up" reason="syn-ack" reason_ttl="0"/>\n` +
    `<address addr="${addr}" addrtype="ipv4"/>\n` +
    `<hostnames>\n<hostname name="host-${i}.bench.example" type="PTR"/>\n</hostnames>\n` +
    `<ports><extraports state="closed" count="995">\n` +
    `<extrareasons reason="conn-refused" count="995" proto="tcp" ports="1-21,23-24,26-79,81-442,444-3305,3307-65535"/>\n` +
    `</extraports>\n${ports}</ports>\n` +
    `<times srtt="120" rttvar="80" to="100000"/>\n</host>\n`
  );
}

function header(hosts: number): string {
  const cmd = { targets: [`127.0.0.0/${hosts > 65_536 ? 8 : 16}`], ports: [22], args: ['-sV'] };
  return headerXml(cmd, START_S);
}

/** A whole report of `hosts` hosts, in memory. */
export function nmapXml(hosts: number): Buffer {
  const parts = [header(hosts)];
  for (let i = 0; i < hosts; i++) parts.push(hostXml(i));
  parts.push(footerXml(hosts, START_S, START_S + 60, 60));
  return Buffer.from(parts.join(''));
}

/** A report of at least `bytes` bytes written to `path`; resolves with its host count. */
export async function writeNmapXml(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const hosts = Math.ceil(bytes / Buffer.byteLength(hostXml(0)));
  let pending: string[] = [header(hosts)];
  for (let i = 0; i < hosts; i++) {
    pending.push(hostXml(i));
    if (pending.length >= 1000) {
      if (!out.write(pending.join(''))) await once(out, 'drain');
      pending = [];
    }
  }
  pending.push(footerXml(hosts, START_S, START_S + 60, 60));
  out.end(pending.join(''));
  await once(out, 'finish');
  return hosts;
}
