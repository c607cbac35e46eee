import { ScanmeshError } from '../errors.ts';

/**
 * The nmap option table: every option scanmesh passes, with the shape of its value and one line
 * saying why it is allowed, and every option it refuses, with the reason a person reads. An
 * option in neither list is refused as unknown. Arity mirrors nmap's own table (nmap.cc
 * `long_options` and the short string "46Ab:D:d::e:Ffg:hIi:M:m:nO::o:P::p:qRrS:s::T:Vv::"):
 * getting it wrong would let a value be read as a target, or a target as a value.
 */

export interface Shape {
  /** What a valid value looks like, for error messages. */
  readonly describe: string;
  test(value: string): boolean;
}

export type Rule =
  | { readonly kind: 'flag'; readonly why: string; readonly emit?: string }
  /** `shape: 'policy'`: the value is judged by policy.ts (targets, scripts, script arguments). */
  | {
      readonly kind: 'value';
      readonly why: string;
      readonly shape: Shape | 'policy';
      readonly emit?: string;
    }
  | { readonly kind: 'refused'; readonly why: string };

// ---------------------------------------------------------------------------------------------
// Value shapes

function int(min: number, max: number): Shape {
  return {
    describe: `a whole number from ${min} to ${max}`,
    test: (v) => /^[0-9]{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max,
  };
}

const DECIMAL = /^[0-9]{1,9}(\.[0-9]{1,6})?$/;

export const RATE: Shape = {
  describe: 'a positive number of packets per second',
  test: (v) => DECIMAL.test(v) && Number(v) > 0,
};

const RATIO: Shape = {
  describe: 'a number from 0 up to (not including) 1',
  test: (v) => DECIMAL.test(v) && Number(v) < 1,
};

/** nmap's <time>: seconds, or a number with ms, s, m or h. */
const TIME: Shape = {
  describe: 'a time such as 500ms, 30s, 5m or 1h',
  test: (v) => /^[0-9]{1,9}(\.[0-9]{1,6})?(ms|s|m|h)?$/.test(v),
};

const SERVICE_NAME = /^[A-Za-z0-9*?][A-Za-z0-9_.*?+-]*$/;

function portItem(item: string, max: number): boolean {
  const range = /^([0-9]*)-([0-9]*)$/.exec(item);
  if (range) {
    const lo = range[1] === '' ? 0 : Number(range[1]);
    const hi = range[2] === '' ? max : Number(range[2]);
    return lo <= hi && hi <= max;
  }
  if (/^[0-9]+$/.test(item)) return Number(item) <= max;
  // A service name from nmap-services, possibly with * and ? wildcards: harmless lookups.
  return SERVICE_NAME.test(item) && /[A-Za-z*?]/.test(item);
}

/** `-p` and `--exclude-ports`: `22`, `1-1024`, `-`, `T:80,U:53`, `http*`; `P:` is IP protocols. */
export const PORTS: Shape = {
  describe: 'a port list such as 22,80,1000-2000 or T:80,U:53',
  test: (v) =>
    v.length > 0 &&
    v.split(',').every((raw) => {
      const m = /^([TUSP]):(.*)$/.exec(raw);
      return portItem(m ? (m[2] ?? '') : raw, m?.[1] === 'P' ? 255 : 65535);
    }),
};

/** The ports attached to -PS/-PA/-PU/-PY (no protocol prefixes), or protocols for -PO. */
export function simplePorts(max: number): Shape {
  return {
    describe: max === 255 ? 'a protocol list such as 1,6,17' : 'a port list such as 22,80,443',
    test: (v) => v.split(',').every((item) => portItem(item, max)),
  };
}

const IFACE: Shape = {
  describe: 'an interface name such as eth0 or wlan0',
  test: (v) => /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$/.test(v),
};

const MTU: Shape = {
  describe: 'a multiple of 8 from 8 to 1496',
  test: (v) => /^[0-9]{1,4}$/.test(v) && Number(v) >= 8 && Number(v) <= 1496 && Number(v) % 8 === 0,
};

const SCANFLAGS: Shape = {
  describe: 'a number 0-255 or flag names such as SYNFIN or URGACKPSHRSTSYNFIN',
  test: (v) =>
    (/^[0-9]{1,3}$/.test(v) && Number(v) <= 255) ||
    /^(URG|ACK|PSH|PUSH|RST|RESET|SYN|FIN|ECE|CWR|ALL|NONE)+$/i.test(v),
};

/** -T: a level 0-5 or its name; emitted as the digit. */
export const TIMING_LEVELS = ['paranoid', 'sneaky', 'polite', 'normal', 'aggressive', 'insane'];

// ---------------------------------------------------------------------------------------------
// Reasons shared by several refused options

const WRITES_FILE = 'writes a file on the worker; scanmesh collects output itself';
const READS_FILE = 'reads a file on the worker, which scanmesh never lets a command line choose';
const NO_SCAN = 'prints information instead of scanning';
const OWNS_OUTPUT = 'changes the output that scanmesh parses; scanmesh owns output';
const DEBUG = 'only changes what nmap prints, and nothing else';

/** Long options, keyed by name without the dashes. */
export const LONG: Readonly<Record<string, Rule>> = {
  // Targets and ports
  exclude: { kind: 'value', shape: 'policy', why: 'only removes targets, never adds any' },
  'exclude-ports': { kind: 'value', shape: PORTS, why: 'only removes ports' },
  'top-ports': { kind: 'value', shape: int(1, 65535), why: 'chooses ports, not hosts' },
  'port-ratio': { kind: 'value', shape: RATIO, why: 'chooses ports, not hosts' },
  'randomize-hosts': { kind: 'flag', why: 'changes the order of targets only' },
  rH: { kind: 'flag', emit: '--randomize-hosts', why: 'old spelling of --randomize-hosts' },
  unique: { kind: 'flag', why: 'scans an address once even if listed twice' },
  'resolve-all': { kind: 'flag', why: 'scans every address of a name; each is scope-checked' },
  // Discovery and scan behaviour towards the targets
  traceroute: { kind: 'flag', why: 'sends low-TTL probes towards the target only' },
  'system-dns': { kind: 'flag', why: 'asks the OS resolver instead of the same DNS servers' },
  'disable-arp-ping': { kind: 'flag', why: 'only turns a discovery method off' },
  'discovery-ignore-rst': { kind: 'flag', why: 'changes how replies are read' },
  'defeat-rst-ratelimit': { kind: 'flag', why: 'timing towards the targets' },
  'defeat-icmp-ratelimit': { kind: 'flag', why: 'timing towards the targets' },
  scanflags: { kind: 'value', shape: SCANFLAGS, why: 'TCP flags of probes to the target' },
  'version-intensity': { kind: 'value', shape: int(0, 9), why: 'depth of version probes' },
  'version-light': { kind: 'flag', why: 'fewer version probes' },
  'version-all': { kind: 'flag', why: 'more version probes, to the same target' },
  'osscan-limit': { kind: 'flag', why: 'fewer OS probes' },
  'osscan-guess': { kind: 'flag', why: 'changes how OS results are reported' },
  fuzzy: { kind: 'flag', emit: '--osscan-guess', why: 'old spelling of --osscan-guess' },
  'max-os-tries': { kind: 'value', shape: int(1, 50), why: 'retries towards the same target' },
  // Scripts (judged against policy.scripts and policy.scriptArgs)
  script: { kind: 'value', shape: 'policy', why: 'runs scripts the policy allows' },
  'script-args': { kind: 'value', shape: 'policy', why: 'only argument keys the policy allows' },
  'script-timeout': { kind: 'value', shape: TIME, why: 'limits script run time' },
  'script-trace': { kind: 'flag', why: DEBUG },
  // Timing
  'min-rate': { kind: 'value', shape: RATE, why: 'rate, bounded by policy.maxRate' },
  'max-rate': { kind: 'value', shape: RATE, why: 'rate, lowered to policy.maxRate' },
  'max-retries': { kind: 'value', shape: int(0, 100), why: 'retransmissions to the target' },
  'host-timeout': { kind: 'value', shape: TIME, why: 'gives up sooner or later' },
  'scan-delay': { kind: 'value', shape: TIME, why: 'slows probes down' },
  'max-scan-delay': { kind: 'value', shape: TIME, why: 'bounds the probe delay' },
  'min-rtt-timeout': { kind: 'value', shape: TIME, why: 'timing towards the targets' },
  'max-rtt-timeout': { kind: 'value', shape: TIME, why: 'timing towards the targets' },
  'initial-rtt-timeout': { kind: 'value', shape: TIME, why: 'timing towards the targets' },
  'min-hostgroup': { kind: 'value', shape: int(1, 65536), why: 'parallelism over in-scope hosts' },
  'max-hostgroup': { kind: 'value', shape: int(1, 65536), why: 'parallelism over in-scope hosts' },
  'min-parallelism': { kind: 'value', shape: int(1, 1000), why: 'probes in flight' },
  'max-parallelism': { kind: 'value', shape: int(1, 1000), why: 'probes in flight' },
  // Packet shaping: still sent only to the targets, from the worker's own address
  'source-port': { kind: 'value', shape: int(1, 65535), why: "sets our side's port only" },
  ttl: { kind: 'value', shape: int(0, 255), why: 'IP TTL of probes to the target' },
  mtu: { kind: 'value', shape: MTU, why: 'fragments probes to the target' },
  'data-length': { kind: 'value', shape: int(0, 1400), why: 'random padding, up to one MTU' },
  badsum: { kind: 'flag', why: 'bad checksums on probes to the target' },
  adler32: { kind: 'flag', why: 'SCTP checksum style' },
  'send-eth': { kind: 'flag', why: 'how packets are sent, not where' },
  'send-ip': { kind: 'flag', why: 'how packets are sent, not where' },
  unprivileged: { kind: 'flag', why: 'only lowers what nmap may do' },
  // Output that does not leave nmap's stdout
  open: { kind: 'flag', why: 'filters what is reported' },
  reason: { kind: 'flag', why: 'adds the reason for each state to the output' },
  'packet-trace': { kind: 'flag', why: DEBUG },
  'version-trace': { kind: 'flag', why: DEBUG },
  noninteractive: { kind: 'flag', why: 'no keyboard interaction; workers have no terminal' },
  'no-stylesheet': { kind: 'flag', why: 'only drops the stylesheet line from the XML' },
  vv: { kind: 'flag', emit: '-vv', why: 'verbosity' },
  ff: { kind: 'flag', emit: '-ff', why: 'fragments probes to the target' },

  // Refused
  oN: { kind: 'refused', why: WRITES_FILE },
  oX: { kind: 'refused', why: WRITES_FILE },
  oG: { kind: 'refused', why: WRITES_FILE },
  oA: { kind: 'refused', why: WRITES_FILE },
  oS: { kind: 'refused', why: WRITES_FILE },
  oM: { kind: 'refused', why: WRITES_FILE },
  oH: { kind: 'refused', why: WRITES_FILE },
  'append-output': { kind: 'refused', why: WRITES_FILE },
  iL: { kind: 'refused', why: `${READS_FILE}; put the targets on the command line` },
  iR: { kind: 'refused', why: 'picks random Internet hosts, which are never in scope' },
  excludefile: { kind: 'refused', why: `${READS_FILE}; use --exclude` },
  resume: { kind: 'refused', why: READS_FILE },
  datadir: { kind: 'refused', why: `${READS_FILE} (nmap data and scripts)` },
  servicedb: { kind: 'refused', why: READS_FILE },
  versiondb: { kind: 'refused', why: READS_FILE },
  'script-args-file': { kind: 'refused', why: `${READS_FILE}; use --script-args` },
  'script-updatedb': { kind: 'refused', why: "rewrites nmap's script database on the worker" },
  'script-help': { kind: 'refused', why: NO_SCAN },
  stylesheet: { kind: 'refused', why: OWNS_OUTPUT },
  webxml: { kind: 'refused', why: OWNS_OUTPUT },
  'deprecated-xml-osclass': { kind: 'refused', why: OWNS_OUTPUT },
  'stats-every': { kind: 'refused', why: OWNS_OUTPUT },
  sI: { kind: 'refused', why: 'is an idle scan, which bounces probes off a third host' },
  'dns-servers': { kind: 'refused', why: 'sends DNS queries to servers outside the scope' },
  proxies: { kind: 'refused', why: 'relays connections through other hosts' },
  proxy: { kind: 'refused', why: 'relays connections through other hosts' },
  'spoof-mac': { kind: 'refused', why: "impersonates another device on the worker's network" },
  'ip-options': { kind: 'refused', why: 'can source-route probes through other hosts' },
  data: { kind: 'refused', why: 'sends chosen payload bytes; use --data-length for padding' },
  'data-string': { kind: 'refused', why: 'sends chosen payload bytes; use --data-length' },
  privileged: { kind: 'refused', why: 'is for the worker to decide: it runs nmap as it needs' },
  allports: { kind: 'refused', why: 'probes ports nmap skips on purpose (printers print them)' },
  iflist: { kind: 'refused', why: `${NO_SCAN} (the worker's interfaces and routes)` },
  'route-dst': { kind: 'refused', why: `${NO_SCAN} (routes from the worker)` },
  interactive: { kind: 'refused', why: 'was an interactive shell; removed from nmap' },
  version: { kind: 'refused', why: NO_SCAN },
  help: { kind: 'refused', why: NO_SCAN },
  verbose: { kind: 'refused', why: 'is spelled -v here' },
  debug: { kind: 'refused', why: 'is spelled -d here' },
  timing: { kind: 'refused', why: 'is spelled -T0 to -T5 here' },
};

/** Single-dash options that take no value. -d and -v, -s and -P are parsed in policy.ts. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  '-n': 'no reverse DNS',
  '-R': 'reverse DNS for every target, through the usual resolver',
  '-r': 'port order only',
  '-F': 'fewer ports',
  '-f': 'fragments probes to the target',
  '-6': 'IPv6 mode; targets must then be IPv6',
  '-4': 'IPv4 mode (the default)',
  '-O': 'OS detection probes to the target',
  '-A': '-O -sV -sC --traceroute: needs "default" and "version" and, as -sC, the risky categories in policy.scripts',
};

/** Single-dash options with a value, attached (-p22) or next (-p 22). */
export const SHORT_VALUES: Readonly<Record<string, { shape: Shape; emit?: string }>> = {
  p: { shape: PORTS },
  e: { shape: IFACE },
  g: { shape: int(1, 65535), emit: '--source-port' },
  M: { shape: int(1, 1000), emit: '--max-parallelism' },
};

/** -s letters. Combining them (-sSV, -sSU) is nmap's own syntax. */
export const SCAN_TYPES: Readonly<Record<string, string>> = {
  S: 'SYN scan',
  T: 'connect scan',
  U: 'UDP scan',
  A: 'ACK scan',
  W: 'window scan',
  M: 'Maimon scan',
  N: 'null scan',
  F: 'FIN scan',
  X: 'Xmas scan',
  Y: 'SCTP INIT scan',
  Z: 'SCTP COOKIE-ECHO scan',
  O: 'IP protocol scan',
  V: 'version detection: runs "version" scripts, so needs it in policy.scripts',
  C: 'all default scripts: needs "default" and the risky categories in policy.scripts',
  n: 'ping scan only',
  L: 'list scan: sends nothing to targets',
};

export const REFUSED_SCAN_TYPES: Readonly<Record<string, string>> = {
  I: 'is an idle scan, which bounces probes off a third host',
  P: 'is the old spelling of -sn; write -sn',
  R: 'is the old spelling of -sV; write -sV',
  B: 'does not exist; FTP bounce (-b) is refused because it relays through a third host',
};

/** -P letters; S/A/U/Y take attached ports, O attached protocols. */
export const PING_TYPES: Readonly<Record<string, Shape | null>> = {
  n: null,
  E: null,
  P: null,
  M: null,
  R: null,
  S: simplePorts(65535),
  A: simplePorts(65535),
  U: simplePorts(65535),
  Y: simplePorts(65535),
  O: simplePorts(255),
};

/** Single-dash refusals by first letter(s); checked after the allowed forms. */
export const REFUSED_SHORT: readonly (readonly [RegExp, string])[] = [
  [/^-o/, WRITES_FILE],
  [/^-m/, WRITES_FILE],
  [/^-i/, `${READS_FILE}; put the targets on the command line`],
  [/^-b/, 'is an FTP bounce scan, which relays probes through a third host'],
  [/^-D/, 'sends decoy probes that claim to come from other addresses'],
  [/^-S/, 'spoofs the source address, so replies go to another host'],
  [/^-[hV]$/, NO_SCAN],
  [/^-I$/, 'was the ident scan, which nmap no longer has'],
];

/**
 * Every long option nmap 7.9x knows (older releases also took underscores). nmap reads options
 * with getopt_long_only, so a single-dash `-script`, or even `-scr`, means `--script`.
 */
const NMAP_ONLY = ['release-memory', 'nogcc', 'nsock-engine', 'thc', 'log-errors'];
export const NMAP_LONG_NAMES: readonly string[] = [...Object.keys(LONG), ...NMAP_ONLY].flatMap(
  (n) => (n.includes('-') ? [n, n.replace(/-/g, '_')] : [n]),
);

// ---------------------------------------------------------------------------------------------
// Reading an argument vector with the table above

/** One option as read: `key` identifies it (for repeats and policy), `tokens` is what we emit. */
export interface ReadOption {
  readonly key: string;
  readonly tokens: string[];
  readonly value?: string;
  /** Options with a value may appear once: nmap either refuses repeats or keeps the last. */
  readonly once: boolean;
}

function badCommand(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_COMMAND', message);
}

function refused(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_REFUSED_OPTION', message);
}

function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function checkShape(option: string, shape: Shape | 'policy', value: string): void {
  if (shape !== 'policy' && !shape.test(value)) {
    throw badCommand(`option ${option} needs ${shape.describe}, not "${value}"`);
  }
}

type Take = () => string;

/** `shown` is the option as the person wrote it, for messages (`-oX` is read as `--oX`). */
function readLong(token: string, take: Take, shown = token): ReadOption {
  const eq = token.indexOf('=');
  const name = token.slice(2, eq < 0 ? undefined : eq);
  const as = shown.split('=')[0];
  const inline = eq < 0 ? undefined : token.slice(eq + 1);
  const rule = own(LONG, name);
  if (rule === undefined) {
    const dashed = name.replace(/_/g, '-');
    if (own(LONG, dashed)) throw badCommand(`write --${dashed} rather than ${token}`);
    throw refused(`unknown option ${as}; scanmesh passes only the nmap options it knows`);
  }
  if (rule.kind === 'refused') throw refused(`option ${as} ${rule.why}`);
  const emit = rule.emit ?? `--${name}`;
  if (rule.kind === 'flag') {
    if (inline !== undefined) throw badCommand(`option ${as} takes no value`);
    return { key: emit, tokens: [emit], once: false };
  }
  const value = inline ?? take();
  checkShape(`${as}`, rule.shape, value);
  return { key: emit, tokens: [emit, value], value, once: true };
}

/**
 * nmap reads a multi-letter single-dash token as a long option when some long option's name
 * starts with it. Mirror that, so `-exclude 10.0.0.1` is never read as `-e xclude` + a target.
 */
function readSingleDashLong(token: string, take: Take): ReadOption | null {
  const name = token.slice(1).split('=')[0] ?? '';
  const hits = NMAP_LONG_NAMES.filter((n) => n.startsWith(name));
  if (token.length <= 2 || hits.length === 0) return null;
  if (hits.includes(name)) return readLong(`-${token}`, take, token);
  const which = hits.map((h) => `--${h}`).join(', ');
  throw badCommand(`nmap reads ${token} as an abbreviation of ${which}; write the option in full`);
}

function readScanType(token: string): ReadOption {
  const letters = token.slice(2);
  if (letters === '') throw badCommand('option -s needs a scan type, as in -sS or -sT');
  for (const letter of letters) {
    const why = own(REFUSED_SCAN_TYPES, letter);
    if (why !== undefined) throw refused(`option -s${letter} ${why}`);
    if (own(SCAN_TYPES, letter) === undefined) throw badCommand(`unknown scan type -s${letter}`);
  }
  return { key: '-s', tokens: [token], value: letters, once: false };
}

function readPing(token: string): ReadOption {
  const letter = token.charAt(2);
  const rest = token.slice(3);
  const shape = own(PING_TYPES, letter);
  if (shape === undefined) {
    throw refused(
      `option ${token} is not one scanmesh knows; use -Pn, -PE, -PP, -PM, -PS, -PA, -PU, -PY or -PO`,
    );
  }
  if (rest !== '') {
    if (shape === null) throw badCommand(`option -P${letter} takes nothing after it`);
    checkShape(`-P${letter}`, shape, rest);
  }
  return { key: `-P${letter}`, tokens: [token], once: true };
}

function readTiming(token: string, take: Take): ReadOption {
  const value = token.length > 2 ? token.slice(2) : take();
  const level = /^[0-5]$/.test(value) ? Number(value) : TIMING_LEVELS.indexOf(value.toLowerCase());
  if (level < 0) throw badCommand(`option -T needs 0 to 5 or a template name, not "${value}"`);
  return { key: '-T', tokens: [`-T${level}`], value: String(level), once: true };
}

function readShort(token: string, take: Take): ReadOption {
  if (own(SHORT_FLAGS, token) !== undefined) return { key: token, tokens: [token], once: false };
  // -d, -dd, -d3 and -v, -vv, -v3: nmap's optional attached level.
  const level = /^-([dv])(\1*|[0-9]|10)$/.exec(token);
  if (level) return { key: `-${level[1]}`, tokens: [token], once: false };
  const long = readSingleDashLong(token, take);
  if (long) return long;
  if (token.startsWith('-s')) return readScanType(token);
  if (token.startsWith('-P')) return readPing(token);
  if (token.startsWith('-T')) return readTiming(token, take);
  const letter = token.charAt(1);
  const short = own(SHORT_VALUES, letter);
  if (short) {
    const value = token.length > 2 ? token.slice(2) : take();
    checkShape(`-${letter}`, short.shape, value);
    const emit = short.emit ?? `-${letter}`;
    return { key: emit, tokens: [emit, value], value, once: true };
  }
  for (const [pattern, why] of REFUSED_SHORT) {
    if (pattern.test(token)) throw refused(`option ${token} ${why}`);
  }
  const hint = /^-[A-Za-z0-9]{2,}$/.test(token) ? '; write each option separately' : '';
  throw refused(`unknown option ${token}; scanmesh passes only the nmap options it knows${hint}`);
}

/**
 * Splits an argument vector into options (checked against the table) and targets (everything
 * that is neither an option nor an option's value, as getopt sees it). No policy is applied.
 */
export function readOptions(args: readonly string[]): { options: ReadOption[]; targets: string[] } {
  const options: ReadOption[] = [];
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i] ?? '';
    const take: Take = () => {
      const value = args[++i];
      if (value === undefined) throw badCommand(`option ${token} needs a value`);
      return value;
    };
    if (!token.startsWith('-') || token === '-') targets.push(token);
    else if (token === '--')
      throw badCommand('"--" is not needed: write the targets after the options');
    else options.push(token.startsWith('--') ? readLong(token, take) : readShort(token, take));
  }
  return { options, targets };
}
