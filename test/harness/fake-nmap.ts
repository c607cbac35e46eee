import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A fast stand-in for nmap, so that the chaos suite can run thousands of jobs in minutes. It takes
 * nmap's argument vector (the worker appends `-oX -`), waits a short while and prints nmap-shaped
 * XML (the structure of test/fixtures/nmap/*.xml) for the targets it was given: one `<host>` per
 * target, streamed one at a time like nmap does, each with the ports a hash says are open.
 *
 * Deterministic where it matters: which ports are open depends only on the target and the ports
 * asked for (`expectedOpenPorts`), so the chaos checker knows what every job must have written.
 * Only the delay is random.
 *
 * Poison, by target (`127.66.<kind>.<n>`) or for every target with SCANMESH_FAKE_POISON=<name>:
 *   127.66.0.x  crash   error on stderr, exit 1
 *   127.66.1.x  segv    kills itself with SIGSEGV after printing part of its output
 *   127.66.2.x  hang    prints the header and then nothing, until killed (bounded, see below)
 *   127.66.3.x  badxml  exits 0 after a truncated `<host>`: the worker's parser must refuse it
 *
 * Environment: SCANMESH_FAKE_DELAY_MS (default 50, jittered ±50 %) is the whole scan's duration;
 * SCANMESH_FAKE_HANG_MS (default 120000) bounds a hang, so nothing outlives a test run.
 */

export type Poison = 'crash' | 'segv' | 'hang' | 'badxml';
const POISON_BY_OCTET: readonly Poison[] = ['crash', 'segv', 'hang', 'badxml'];
/** The /16 whose third octet selects a poison behaviour. */
const POISON_PREFIX = '127.66.';
/** What nmap scans without -p: a short stand-in for its top-1000 list. */
const DEFAULT_PORTS = [21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 995, 3306, 3389, 8080];
/** The most addresses one command may expand to; more is a mistake in the test, not a scan. */
const MAX_TARGETS = 4096;
const MAX_PORT_LIST = 65_535;
/** Options that take a value: their value is not a target. Enough for what tests send. */
const VALUED = new Set([
  '-p',
  '-oX',
  '-oN',
  '-oG',
  '-oA',
  '-e',
  '--top-ports',
  '--scan-delay',
  '--max-scan-delay',
  '--max-rate',
  '--min-rate',
  '--max-retries',
  '--host-timeout',
  '--exclude',
  '--script',
  '--script-args',
]);
const VERSION = '7.93';

export interface FakeCommand {
  /** Addresses in nmap's order. */
  targets: string[];
  /** Ports to probe, ascending, without duplicates. */
  ports: number[];
  /** The arguments as given, without the `-oX -` the worker adds. */
  args: string[];
}

/** Read nmap's argument vector: the ports (-p) and the targets, expanded to addresses. */
export function parseArgs(argv: readonly string[]): FakeCommand {
  const args: string[] = [];
  const targets: string[] = [];
  let ports = DEFAULT_PORTS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-oX' && argv[i + 1] === '-') {
      i++;
      continue;
    }
    args.push(a);
    if (VALUED.has(a)) {
      const value = argv[++i] ?? '';
      args.push(value);
      if (a === '-p') ports = parsePorts(value);
    } else if (a.startsWith('-p') && a.length > 2 && !a.startsWith('--')) {
      ports = parsePorts(a.slice(2));
    } else if (!a.startsWith('-')) {
      targets.push(...expandTarget(a));
    }
    if (targets.length > MAX_TARGETS) throw new Error(`more than ${MAX_TARGETS} targets`);
  }
  return { targets, ports, args };
}

/** nmap's port list syntax, TCP only: `22,80,1000-1010`, an optional `T:` prefix. */
export function parsePorts(spec: string): number[] {
  const out = new Set<number>();
  for (const raw of spec.replace(/^T:/, '').split(',')) {
    const [lo, hi = lo] = raw.split('-').map(Number);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 1 || hi! > 65_535 || lo! > hi!) {
      throw new Error(`bad port list "${spec}"`);
    }
    for (let p = lo!; p <= hi! && out.size <= MAX_PORT_LIST; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

/** An IPv4 target as nmap writes it: literal, per-octet ranges and lists (`10.0.1-2.1,5`), or CIDR. */
export function expandTarget(spec: string): string[] {
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(spec);
  if (cidr) {
    const bits = Number(cidr[2]);
    if (bits < 20 || bits > 32) throw new Error(`CIDR /${bits} is too wide for the fake nmap`);
    const base = ipToInt(cidr[1] as string) & (~0 << (32 - bits));
    return Array.from({ length: 2 ** (32 - bits) }, (_, i) => intToIp((base + i) >>> 0));
  }
  const octets = spec.split('.');
  if (octets.length !== 4) throw new Error(`not an IPv4 target: "${spec}"`);
  let out = [''];
  for (const octet of octets) {
    const values = octet.split(',').flatMap((part) => {
      const [lo, hi = lo] = part.split('-').map(Number);
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 0 || hi! > 255 || lo! > hi!) {
        throw new Error(`not an IPv4 target: "${spec}"`);
      }
      return Array.from({ length: hi! - lo! + 1 }, (_, i) => lo! + i);
    });
    out = out.flatMap((prefix) => values.map((v) => (prefix ? `${prefix}.${v}` : String(v))));
    if (out.length > MAX_TARGETS) throw new Error(`more than ${MAX_TARGETS} targets`);
  }
  return out;
}

/** Which of `ports` are open on `target`: one to four of them, chosen by a hash. */
export function expectedOpenPorts(target: string, ports: readonly number[]): number[] {
  if (ports.length === 0) return [];
  const h = createHash('sha256')
    .update(`${target}|${ports.join(',')}`)
    .digest();
  const want = Math.min(ports.length, 1 + ((h[0] as number) % 4));
  const open = new Set<number>();
  for (let i = 1; i < h.length / 2 && open.size < want; i++) {
    open.add(ports[h.readUInt16BE(2 * i) % ports.length] as number);
  }
  // Hash collisions left it short: fill up in port order.
  for (const p of ports) if (open.size < want) open.add(p);
  return [...open].sort((a, b) => a - b);
}

/** The poison behaviour a target selects, if any. */
export function poisonOf(target: string): Poison | null {
  if (!target.startsWith(POISON_PREFIX)) return null;
  return POISON_BY_OCTET[Number(target.split('.')[2])] ?? null;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

// ---------------------------------------------------------------------------------------------
// XML, shaped like nmap 7.93's -oX output

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** `1,2,3,7` → `1-3,7`, as nmap writes port lists. */
function ranges(ports: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ports.length;) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === (ports[j] as number) + 1) j++;
    out.push(i === j ? `${ports[i]}` : `${ports[i]}-${ports[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** `Sat Nov 21 13:26:10 2026`: nmap's strftime("%a %b %d %H:%M:%S %Y"). */
function ctime(unixS: number): string {
  const [day, mon, dd, yyyy, hms] = new Date(unixS * 1000).toString().split(' ');
  return `${day} ${mon} ${dd} ${hms} ${yyyy}`;
}

export function headerXml(cmd: FakeCommand, startS: number): string {
  const line = esc(`nmap ${[...cmd.args, '-oX', '-'].join(' ')}`);
  const when = ctime(startS);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE nmaprun>',
    '<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>',
    `<!-- Nmap ${VERSION} scan initiated ${when} as: ${line} -->`,
    `<nmaprun scanner="nmap" args="${line}" start="${startS}" startstr="${when}" version="${VERSION}" xmloutputversion="1.05">`,
    `<scaninfo type="connect" protocol="tcp" numservices="${cmd.ports.length}" services="${ranges(cmd.ports)}"/>`,
    '<verbose level="0"/>',
    '<debugging level="0"/>',
    '',
  ].join('\n');
}

export function hostXml(target: string, ports: readonly number[], nowS: number): string {
  const open = expectedOpenPorts(target, ports);
  const closed = ports.filter((p) => !open.includes(p));
  const extra =
    closed.length === 0
      ? ''
      : `<extraports state="closed" count="${closed.length}">\n` +
        `<extrareasons reason="conn-refused" count="${closed.length}" proto="tcp" ports="${ranges(closed)}"/>\n` +
        '</extraports>\n';
  const listed = open
    .map(
      (p) =>
        `<port protocol="tcp" portid="${p}"><state state="open" reason="syn-ack" reason_ttl="0"/></port>\n`,
    )
    .join('');
  return (
    `<host starttime="${nowS}" endtime="${nowS}"><status state="up" reason="user-set" reason_ttl="0"/>\n` +
    `<address addr="${target}" addrtype="ipv4"/>\n` +
    '<hostnames>\n</hostnames>\n' +
    `<ports>${extra}${listed}</ports>\n` +
    '<times srtt="120" rttvar="80" to="100000"/>\n' +
    '</host>\n'
  );
}

export function footerXml(hosts: number, startS: number, endS: number, elapsedS: number): string {
  const when = ctime(endS);
  const n = `${hosts} IP address${hosts === 1 ? '' : 'es'}`;
  return (
    `<runstats><finished time="${endS}" timestr="${when}" summary="Nmap done at ${when}; ${n} (${hosts} host${hosts === 1 ? '' : 's'} up) scanned in ${elapsedS.toFixed(2)} seconds" elapsed="${elapsedS.toFixed(2)}" exit="success"/><hosts up="${hosts}" down="0" total="${hosts}"/>\n` +
    '</runstats>\n</nmaprun>\n'
  );
}

// ---------------------------------------------------------------------------------------------
// The process

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function write(text: string): Promise<void> {
  return new Promise((resolve) =>
    process.stdout.write(text) ? resolve() : process.stdout.once('drain', resolve),
  );
}

async function main(argv: string[]): Promise<number> {
  // The worker reads the version once at start.
  if (argv.includes('--version') || argv.includes('-V')) {
    await write(
      `Nmap version ${VERSION} ( https://nmap.org ) [scanmesh fake nmap]\nPlatform: fake\n`,
    );
    return 0;
  }
  // A reader that went away (its worker was SIGKILLed) is not an error worth a stack trace.
  process.stdout.on('error', () => process.exit(0));
  let cmd: FakeCommand;
  try {
    cmd = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`Failed to resolve given hostname/IP: ${(err as Error).message}\n`);
    return 1;
  }
  const poison =
    (process.env.SCANMESH_FAKE_POISON as Poison | undefined) ??
    cmd.targets.map(poisonOf).find((p) => p !== null) ??
    null;
  const total = envMs('SCANMESH_FAKE_DELAY_MS', 50) * (0.5 + Math.random());
  const perHost = total / Math.max(1, cmd.targets.length);
  const startMs = Date.now();
  const startS = Math.floor(startMs / 1000);

  if (poison === 'crash') {
    await sleep(total);
    process.stderr.write('nmap: simulated crash (scanmesh fake nmap poison target)\n');
    return 1;
  }
  await write(headerXml(cmd, startS));
  if (poison === 'hang') return hang(envMs('SCANMESH_FAKE_HANG_MS', 120_000));
  if (poison === 'badxml') {
    await sleep(total);
    await write('<host starttime="1"><status state="up"');
    return 0;
  }
  for (const target of cmd.targets) {
    await sleep(perHost);
    if (poison === 'segv') process.kill(process.pid, 'SIGSEGV');
    await write(hostXml(target, cmd.ports, Math.floor(Date.now() / 1000)));
  }
  const endMs = Date.now();
  await write(
    footerXml(cmd.targets.length, startS, Math.floor(endMs / 1000), (endMs - startMs) / 1000),
  );
  return 0;
}

/**
 * Hang like a wedged nmap, but not forever: stop after `limitMs`, or as soon as the parent is gone
 * (a SIGKILLed worker cannot kill its child, and an orphan must not outlive the test).
 */
async function hang(limitMs: number): Promise<number> {
  const parent = process.ppid;
  for (const until = Date.now() + limitMs; Date.now() < until;) {
    await sleep(250);
    if (process.ppid !== parent) return 1;
  }
  return 1;
}

const invokedAs = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedAs === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
