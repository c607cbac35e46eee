import { describe, expect, it } from 'vitest';
import { isScanmeshError, type ErrorCode } from '../errors.ts';
import { tokenize } from './command-line.ts';
import {
  DEFAULT_POLICY,
  checkArgs,
  createPolicy,
  resolveCommand,
  type CheckedCommand,
  type Policy,
} from './policy.ts';
import { codeOf } from '../testkit.ts';

const SCOPE = {
  allow: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '192.168.1.0/24', 'fe80::/10', '2001:db8::/32'],
  deny: ['10.0.0.0/29'],
};
const POLICY = createPolicy({ scope: SCOPE, scripts: [...DEFAULT_POLICY.scripts, 'http-title'] });
const NOT_RISKY =
  'and not (broadcast or brute or dos or exploit or external or fuzzer or intrusive or malware)';

function run(line: string, policy: Policy = POLICY): CheckedCommand {
  return checkArgs(tokenize(line), policy);
}

/** Good command lines and exactly what nmap is given. The targets always come last. */
const GOOD: [string, string][] = [
  ['-sS 127.0.0.1', '-sS 127.0.0.1'],
  ['127.0.0.1 -sS', '-sS 127.0.0.1'],
  ['-sT -p22 127.0.0.1', '-sT -p 22 127.0.0.1'],
  ['-p 22,80 127.0.0.1', '-p 22,80 127.0.0.1'],
  ['-pT:80,U:53 -sSU 127.0.0.1', '-p T:80,U:53 -sSU 127.0.0.1'],
  ['-p- 127.0.0.1', '-p - 127.0.0.1'],
  ['-p -100 127.0.0.1', '-p -100 127.0.0.1'],
  ['-p 1-1024,8080,60000- 127.0.0.1', '-p 1-1024,8080,60000- 127.0.0.1'],
  ['-p http,ssh,ftp* 127.0.0.1', '-p http,ssh,ftp* 127.0.0.1'],
  ['-sO -p P:1,6,17 127.0.0.1', '-sO -p P:1,6,17 127.0.0.1'],
  ['-sV --version-intensity 5 127.0.0.1', '-sV --version-intensity 5 127.0.0.1'],
  ['--version-intensity=5 -sV 127.0.0.1', '--version-intensity 5 -sV 127.0.0.1'],
  ['-sV --version-light 127.0.0.1', '-sV --version-light 127.0.0.1'],
  ['-sV --version-all 127.0.0.1', '-sV --version-all 127.0.0.1'],
  ['-sSV 127.0.0.1', '-sSV 127.0.0.1'],
  ['-sA -sW -sM -sN -sF -sX 127.0.0.1', '-sA -sW -sM -sN -sF -sX 127.0.0.1'],
  ['-sY -sZ 127.0.0.1', '-sY -sZ 127.0.0.1'],
  ['-sn 10.1.0.0/16', '-sn 10.1.0.0/16'],
  ['-sL 192.168.1.0/24', '-sL 192.168.1.0/24'],
  ['-sn -PR 192.168.1.0/24', '-sn -PR 192.168.1.0/24'],
  ['-O -Pn 127.0.0.1', '-O -Pn 127.0.0.1'],
  [
    '-PE -PS22,80 -PA -PU53 -PY -PO1,6,17 127.0.0.1',
    '-PE -PS22,80 -PA -PU53 -PY -PO1,6,17 127.0.0.1',
  ],
  ['-PP -PM 127.0.0.1', '-PP -PM 127.0.0.1'],
  ['-n -r -F 127.0.0.1', '-n -r -F 127.0.0.1'],
  ['-R 127.0.0.1', '-R 127.0.0.1'],
  ['-T4 127.0.0.1', '-T4 127.0.0.1'],
  ['-T 2 127.0.0.1', '-T2 127.0.0.1'],
  ['-Taggressive 127.0.0.1', '-T4 127.0.0.1'],
  ['-T Paranoid 127.0.0.1', '-T0 127.0.0.1'],
  ['--max-rate 100 127.0.0.1', '--max-rate 100 127.0.0.1'],
  ['--max-rate=100.5 127.0.0.1', '--max-rate 100.5 127.0.0.1'],
  [
    '--min-rate 10 --max-retries 2 --host-timeout 30m --scan-delay 500ms --max-scan-delay 2s 127.0.0.1',
    '--min-rate 10 --max-retries 2 --host-timeout 30m --scan-delay 500ms --max-scan-delay 2s 127.0.0.1',
  ],
  [
    '--min-rtt-timeout 100ms --max-rtt-timeout 1.5s --initial-rtt-timeout 1 127.0.0.1',
    '--min-rtt-timeout 100ms --max-rtt-timeout 1.5s --initial-rtt-timeout 1 127.0.0.1',
  ],
  [
    '--min-hostgroup 8 --max-hostgroup 64 --min-parallelism 1 --max-parallelism 10 127.0.0.1',
    '--min-hostgroup 8 --max-hostgroup 64 --min-parallelism 1 --max-parallelism 10 127.0.0.1',
  ],
  ['-M 10 127.0.0.1', '--max-parallelism 10 127.0.0.1'],
  ['--top-ports 100 --open --reason 127.0.0.1', '--top-ports 100 --open --reason 127.0.0.1'],
  ['--port-ratio 0.5 127.0.0.1', '--port-ratio 0.5 127.0.0.1'],
  ['--exclude-ports 25,T:110 127.0.0.1', '--exclude-ports 25,T:110 127.0.0.1'],
  ['-v -vv -v3 -d -dd -d2 127.0.0.1', '-v -vv -v3 -d -dd -d2 127.0.0.1'],
  [
    '--traceroute --packet-trace --version-trace --script-trace 127.0.0.1',
    '--traceroute --packet-trace --version-trace --script-trace 127.0.0.1',
  ],
  [
    '-O --osscan-limit --fuzzy --max-os-tries 2 127.0.0.1',
    '-O --osscan-limit --osscan-guess --max-os-tries 2 127.0.0.1',
  ],
  ['-e eth0 127.0.0.1', '-e eth0 127.0.0.1'],
  ['-eeth0 127.0.0.1', '-e eth0 127.0.0.1'],
  ['-g 53 127.0.0.1', '--source-port 53 127.0.0.1'],
  ['--source-port=53 127.0.0.1', '--source-port 53 127.0.0.1'],
  [
    '--ttl 64 -f --mtu 24 --data-length 20 --badsum --adler32 127.0.0.1',
    '--ttl 64 -f --mtu 24 --data-length 20 --badsum --adler32 127.0.0.1',
  ],
  ['-ff 127.0.0.1', '-ff 127.0.0.1'],
  ['-rH 127.0.0.1', '--randomize-hosts 127.0.0.1'],
  [
    '--send-eth --unprivileged --system-dns --resolve-all --unique --noninteractive --no-stylesheet 127.0.0.1',
    '--send-eth --unprivileged --system-dns --resolve-all --unique --noninteractive --no-stylesheet 127.0.0.1',
  ],
  ['--send-ip 127.0.0.1', '--send-ip 127.0.0.1'],
  [
    '--defeat-rst-ratelimit --defeat-icmp-ratelimit --disable-arp-ping --discovery-ignore-rst 127.0.0.1',
    '--defeat-rst-ratelimit --defeat-icmp-ratelimit --disable-arp-ping --discovery-ignore-rst 127.0.0.1',
  ],
  ['--scanflags URGACKPSHRSTSYNFIN -sS 127.0.0.1', '--scanflags URGACKPSHRSTSYNFIN -sS 127.0.0.1'],
  ['--scanflags 18 127.0.0.1', '--scanflags 18 127.0.0.1'],
  [
    '--exclude 127.0.0.5,127.0.0.10-20 127.0.0.0/24',
    '--exclude 127.0.0.5,127.0.0.10-20 127.0.0.0/24',
  ],
  ['-exclude 127.0.0.2 127.0.0.0/30', '--exclude 127.0.0.2 127.0.0.0/30'],
  ['--exclude 10.0.0.0/29 10.0.0.8/29', '--exclude 10.0.0.0/29 10.0.0.8/29'],
  ['-6 ::1', '-6 ::1'],
  ['-6 -sT 2001:db8::/64', '-6 -sT 2001:db8::/64'],
  ['-6 fe80::1%eth0', '-6 fe80::1%eth0'],
  ['-6 --exclude fe80::1 fe80::/120', '-6 --exclude fe80::1 fe80::/120'],
  ['-4 127.0.0.1', '-4 127.0.0.1'],
  ['127.0.0.1 127.0.0.2 localhost', '127.0.0.1 127.0.0.2 localhost'],
  ['127.0.0.1-20 127.0.0-3.1-254 127.0.*.1', '127.0.0.1-20 127.0.0-3.1-254 127.0.*.1'],
  ['127.0.0.1,3,5 127.0.0.-5 127.0.0.250-', '127.0.0.1,3,5 127.0.0.-5 127.0.0.250-'],
  ['-sn localhost/30 scanme.example.org', '-sn localhost/30 scanme.example.org'],
  ['-script default 127.0.0.1', `--script (default) ${NOT_RISKY} 127.0.0.1`],
  ['--script=discovery 127.0.0.1', `--script (discovery) ${NOT_RISKY} 127.0.0.1`],
  [
    '--script default,safe,version 127.0.0.1',
    `--script (default or safe or version) ${NOT_RISKY} 127.0.0.1`,
  ],
  ['--script http-title 127.0.0.1', '--script http-title 127.0.0.1'],
  ['--script http-title,safe 127.0.0.1', `--script (safe) ${NOT_RISKY},http-title 127.0.0.1`],
  ['--script safe,safe 127.0.0.1', `--script (safe) ${NOT_RISKY} 127.0.0.1`],
  [
    '--script default --script-args http.useragent=Scanmesh,snmp.version=v2c 127.0.0.1',
    `--script (default) ${NOT_RISKY} --script-args http.useragent=Scanmesh,snmp.version=v2c 127.0.0.1`,
  ],
  ['-sV --script-timeout 30s 127.0.0.1', '-sV --script-timeout 30s 127.0.0.1'],
];

describe('checkArgs accepts', () => {
  it.each(GOOD)('%s', (line, expected) => {
    const out = run(line);
    expect(out.args.join(' ')).toBe(expected);
    expect(out.args.slice(out.args.length - out.targets.length)).toEqual(out.targets);
  });

  it.each(GOOD)('gives back its own output unchanged: %s', (line) => {
    const once = run(line);
    expect(checkArgs(once.args, POLICY)).toEqual(once);
  });

  it('keeps a quoted user agent with spaces as one argument', () => {
    const out = checkArgs(
      ['-sV', '--script-args', 'http.useragent=Mozilla/5.0 (scanmesh)', '127.0.0.1'],
      POLICY,
    );
    expect(out.args).toEqual([
      '-sV',
      '--script-args',
      'http.useragent=Mozilla/5.0 (scanmesh)',
      '127.0.0.1',
    ]);
  });
});

const REFUSED: string[] = [
  // Output files of any kind
  '-oN out.txt 127.0.0.1',
  '-oX - 127.0.0.1',
  '-oX out.xml 127.0.0.1',
  '-oG out 127.0.0.1',
  '-oA base 127.0.0.1',
  '-oS out 127.0.0.1',
  '-oM out 127.0.0.1',
  '-oH out 127.0.0.1',
  '-oNout.txt 127.0.0.1',
  '--oX out.xml 127.0.0.1',
  '-o out.txt 127.0.0.1',
  '-m out.txt 127.0.0.1',
  '--append-output 127.0.0.1',
  // Files read on the worker, or targets from elsewhere
  '-iL targets.txt',
  '-iR 10',
  '-i targets.txt',
  '--excludefile skip.txt 127.0.0.1',
  '--resume scan.log',
  '--datadir /tmp/evil 127.0.0.1',
  '-datadir /tmp/evil 127.0.0.1',
  '--servicedb x 127.0.0.1',
  '--versiondb x 127.0.0.1',
  '--script-args-file args.txt 127.0.0.1',
  '--script-updatedb',
  '--script-help default',
  // Output we own
  '--stylesheet x.xsl 127.0.0.1',
  '--webxml 127.0.0.1',
  '--stats-every 5s 127.0.0.1',
  '--deprecated-xml-osclass 127.0.0.1',
  // Traffic to or through other hosts, or in another host's name
  '-S 1.2.3.4 127.0.0.1',
  '-D RND:10 127.0.0.1',
  '-sI zombie.example 127.0.0.1',
  '-b ftp.example 127.0.0.1',
  '--proxies http://proxy:8080 127.0.0.1',
  '--proxy http://proxy:8080 127.0.0.1',
  '--spoof-mac 0 127.0.0.1',
  '--ip-options L 127.0.0.1',
  '--data 0xdeadbeef 127.0.0.1',
  '--data-string hello 127.0.0.1',
  '--dns-servers 8.8.8.8 127.0.0.1',
  // Not scans, or not ours to decide
  '--privileged 127.0.0.1',
  '--allports -sV 127.0.0.1',
  '--iflist',
  '--route-dst 127.0.0.1',
  '--interactive',
  '-V',
  '-h',
  '--version',
  '--help',
  '--verbose 127.0.0.1',
  // Scripts outside the policy, or chosen in ways the policy cannot see
  '--script /tmp/evil.nse 127.0.0.1',
  '--script evil.nse 127.0.0.1',
  '--script ./scripts 127.0.0.1',
  '--script http-* 127.0.0.1',
  '--script +default 127.0.0.1',
  "--script 'default and safe' 127.0.0.1",
  "--script 'not intrusive' 127.0.0.1",
  "--script '(default) and not (dos)' 127.0.0.1",
  '--script intrusive 127.0.0.1',
  '--script vuln 127.0.0.1',
  '--script all 127.0.0.1',
  '--script ssh-brute 127.0.0.1',
  '--script-args newtargets 127.0.0.1',
  '--script-args max-newtargets=5 127.0.0.1',
  '--script-args targets-sniffer.newtargets=1 127.0.0.1',
  '--script-args userdb=/etc/shadow 127.0.0.1',
  '--script-args http.useragent=x,passdb=p.txt 127.0.0.1',
  // Unknown options and deprecated spellings
  '--bogus 127.0.0.1',
  '-Z 127.0.0.1',
  '-nvF 127.0.0.1',
  '-q 127.0.0.1',
  '-PN 127.0.0.1',
  '-P0 127.0.0.1',
  '-PI 127.0.0.1',
  '-P 127.0.0.1',
  '-sP 127.0.0.1',
  '-sR 127.0.0.1',
  '-sB 127.0.0.1',
  '-O2 127.0.0.1',
];

const BAD: string[] = [
  '-p',
  '-p 99999 127.0.0.1',
  '-p 22,,80 127.0.0.1',
  '-p 80-22 127.0.0.1',
  '-p P:300 127.0.0.1',
  '-p [1-100] 127.0.0.1',
  '-p 22 -p 80 127.0.0.1',
  '-T6 127.0.0.1',
  '-T fast 127.0.0.1',
  '-T4 -T3 127.0.0.1',
  '--max-rate 0 127.0.0.1',
  '--max-rate -1 127.0.0.1',
  '--max-rate abc 127.0.0.1',
  '--max-rate 1 --max-rate 2 127.0.0.1',
  '--max_rate 10 127.0.0.1',
  '--version-intensity 10 127.0.0.1',
  '--ttl 256 127.0.0.1',
  '--mtu 10 127.0.0.1',
  '--data-length 2000 127.0.0.1',
  '--top-ports 0 127.0.0.1',
  '--port-ratio 1 127.0.0.1',
  '--host-timeout 5x 127.0.0.1',
  '--scanflags FOO 127.0.0.1',
  '-g 0 127.0.0.1',
  "-e 'eth0;x' 127.0.0.1",
  '-PE22 127.0.0.1',
  '-PS22 -PS80 127.0.0.1',
  '-PSabc! 127.0.0.1',
  '-s 127.0.0.1',
  '-sQ 127.0.0.1',
  '--open=yes 127.0.0.1',
  '-4 -6 127.0.0.1',
  '-sS',
  '-- 127.0.0.1',
  '-6 127.0.0.1',
  '::1',
  '--exclude ::1 127.0.0.1',
  '-6 --exclude 127.0.0.1 ::1',
  '-pr 127.0.0.1',
  '-max-r 10 127.0.0.1',
  '127.1',
  '0x7f.0.0.1',
  '2130706433',
  '127.0.0.01',
  '127.0.0.256',
  '127.0.0.20-10',
  '127.0.0.1/33',
  '127.0.0.1/024',
  '[::1]',
  'a..b',
  '-',
  'foo/bar',
  'localhost/33',
  '--script "" 127.0.0.1',
  "--script-args 'http.useragent={x}' 127.0.0.1",
  "--script-args '=x' 127.0.0.1",
];

const OUT: string[] = [
  '10.0.0.0/24',
  '10.0.0.7',
  '8.8.8.8',
  '127.0.0.1 8.8.8.8',
  '0.0.0.0',
  '224.0.0.1',
  '255.255.255.255',
  '127.0.0.0/7',
  '0-255.0.0.1',
  '-6 ::',
  '-6 ::ffff:127.0.0.1',
  '-6 2001:db9::1',
  '--exclude 8.8.8.8 8.8.8.8',
];

describe('checkArgs refuses', () => {
  it.each(REFUSED)('%s → SCANMESH_REFUSED_OPTION', (line) => {
    expect(codeOf(() => run(line))).toBe('SCANMESH_REFUSED_OPTION');
  });
  it.each(BAD)('%s → SCANMESH_BAD_COMMAND', (line) => {
    expect(codeOf(() => run(line))).toBe('SCANMESH_BAD_COMMAND');
  });
  it.each(OUT)('%s → SCANMESH_OUT_OF_SCOPE', (line) => {
    expect(codeOf(() => run(line))).toBe('SCANMESH_OUT_OF_SCOPE');
  });

  it('refuses a typographic dash with a hint', () => {
    expect(() => checkArgs(['\u2013sS', '127.0.0.1'], POLICY)).toThrow(/typographic dash/);
  });

  it('names the option and what to do for output files', () => {
    expect(() => run('-oN out.txt 127.0.0.1')).toThrow(
      'option -oN writes a file on the worker; scanmesh collects output itself',
    );
  });

  it('names the target and the scope when out of scope', () => {
    expect(() => checkArgs(['10.0.0.0/24'], DEFAULT_POLICY)).toThrow(
      /^target 10\.0\.0\.0\/24 is outside the scan scope: .*\(allowed: 127\.0\.0\.0\/8, ::1\/128\); widen it with --scope$/,
    );
  });
});

describe('scripts need the policy', () => {
  const noScripts = createPolicy({ scope: SCOPE, scripts: [] });
  const onlySafe = createPolicy({ scope: SCOPE, scripts: ['safe'] });
  const allRisky = createPolicy({
    scope: SCOPE,
    scripts: [
      ...['default', 'version', 'broadcast', 'brute', 'dos', 'exploit'],
      ...['external', 'fuzzer', 'intrusive', 'malware'],
    ],
  });
  const cases: [string, Policy, ErrorCode | 'no error'][] = [
    ['-sC 127.0.0.1', noScripts, 'SCANMESH_REFUSED_OPTION'],
    ['-sV 127.0.0.1', noScripts, 'SCANMESH_REFUSED_OPTION'],
    ['-sSV 127.0.0.1', onlySafe, 'SCANMESH_REFUSED_OPTION'],
    ['-A 127.0.0.1', onlySafe, 'SCANMESH_REFUSED_OPTION'],
    ['--script default 127.0.0.1', onlySafe, 'SCANMESH_REFUSED_OPTION'],
    ['--script safe 127.0.0.1', onlySafe, 'no error'],
    ['-sS -O 127.0.0.1', noScripts, 'no error'],
    // All default scripts, risky ones too: only where the policy allows every risky category.
    ['-sC 127.0.0.1', DEFAULT_POLICY, 'SCANMESH_REFUSED_OPTION'],
    ['-sSC 127.0.0.1', DEFAULT_POLICY, 'SCANMESH_REFUSED_OPTION'],
    ['-A 127.0.0.1', DEFAULT_POLICY, 'SCANMESH_REFUSED_OPTION'],
    ['-sC 127.0.0.1', allRisky, 'no error'],
    ['-A 127.0.0.1', allRisky, 'no error'],
  ];
  it.each(cases)('%s', (line, policy, code) => {
    expect(codeOf(() => run(line, policy))).toBe(code);
  });

  it('lets a category pull in risky scripts only when the policy allows those too', () => {
    const loose = createPolicy({ scope: SCOPE, scripts: ['discovery', 'intrusive', 'external'] });
    expect(run('--script discovery 127.0.0.1', loose).args[1]).toBe(
      '(discovery) and not (broadcast or brute or dos or exploit or fuzzer or malware)',
    );
    const all = ['broadcast', 'brute', 'dos', 'exploit', 'external', 'fuzzer', 'intrusive'];
    const everything = createPolicy({ scope: SCOPE, scripts: ['discovery', 'malware', ...all] });
    expect(run('--script discovery 127.0.0.1', everything).args[1]).toBe('discovery');
  });

  it('accepts only script-args keys the policy lists', () => {
    const withArgs = createPolicy({ scope: SCOPE, scriptArgs: ['dns-brute.domain'] });
    expect(run('--script-args dns-brute.domain=example.org 127.0.0.1', withArgs).args[1]).toBe(
      'dns-brute.domain=example.org',
    );
    expect(codeOf(() => run('--script-args http.useragent=x 127.0.0.1', withArgs))).toBe(
      'SCANMESH_REFUSED_OPTION',
    );
  });
});

describe('policy.maxRate', () => {
  const capped = createPolicy({ scope: SCOPE, maxRate: 100 });
  const cases: [string, string][] = [
    ['127.0.0.1', '--max-rate 100 127.0.0.1'],
    ['-sS 127.0.0.1', '-sS --max-rate 100 127.0.0.1'],
    ['--max-rate 50 127.0.0.1', '--max-rate 50 127.0.0.1'],
    ['--max-rate 100 127.0.0.1', '--max-rate 100 127.0.0.1'],
    ['--max-rate 500 -sS 127.0.0.1', '--max-rate 100 -sS 127.0.0.1'],
    ['--max-rate=100.1 127.0.0.1', '--max-rate 100 127.0.0.1'],
    ['--min-rate 50 127.0.0.1', '--min-rate 50 --max-rate 100 127.0.0.1'],
  ];
  it.each(cases)('%s', (line, expected) => {
    const out = run(line, capped);
    expect(out.args.join(' ')).toBe(expected);
    expect(checkArgs(out.args, capped)).toEqual(out);
  });

  it('refuses a --min-rate above the cap, which nmap would reject anyway', () => {
    expect(codeOf(() => run('--min-rate 200 127.0.0.1', capped))).toBe('SCANMESH_REFUSED_OPTION');
  });
});

describe('createPolicy', () => {
  const bad: [string, Parameters<typeof createPolicy>[0]][] = [
    ['a zero rate', { maxRate: 0 }],
    ['a NaN rate', { maxRate: Number.NaN }],
    ['a script path', { scripts: ['/tmp/x.nse'] }],
    ['newtargets', { scriptArgs: ['newtargets'] }],
    ['a bad scope', { scope: { allow: ['10.0.0.0/33'], deny: [] } }],
  ];
  it.each(bad)('refuses %s', (_, options) => {
    expect(codeOf(() => createPolicy(options))).toBe('SCANMESH_BAD_CONFIG');
  });

  it('defaults to loopback and the default scripts', () => {
    expect(DEFAULT_POLICY.scope.allow).toEqual(['127.0.0.0/8', '::1/128']);
    expect(DEFAULT_POLICY.scripts).toEqual(['default', 'safe', 'discovery', 'version']);
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
  });
});

describe('resolveCommand', () => {
  const dns: Record<string, string[]> = {
    localhost: ['127.0.0.1', '::1'],
    'multi.example': ['127.0.0.5', '127.0.0.6'],
    'rebind.example': ['10.0.0.1'],
    'v6only.example': ['2001:db8::5'],
    'mapped.example': ['::ffff:8.8.8.8'],
    'lan.example': ['192.168.1.77'],
  };
  const resolve = async (name: string): Promise<string[]> => dns[name] ?? [];
  const resolveIn = (args: string): Promise<CheckedCommand> =>
    resolveCommand(tokenize(args), POLICY, resolve);

  it('replaces a hostname with the first address, as nmap would scan', async () => {
    expect((await resolveIn('-sS localhost')).args).toEqual(['-sS', '127.0.0.1']);
    expect((await resolveIn('multi.example')).args).toEqual(['127.0.0.5']);
  });

  it('replaces it with every address under --resolve-all', async () => {
    expect((await resolveIn('--resolve-all multi.example')).args).toEqual([
      '--resolve-all',
      '127.0.0.5',
      '127.0.0.6',
    ]);
  });

  it('keeps the netmask around each address', async () => {
    expect((await resolveIn('lan.example/28')).targets).toEqual(['192.168.1.77/28']);
  });

  it('uses IPv6 addresses under -6', async () => {
    expect((await resolveIn('-6 localhost v6only.example')).targets).toEqual([
      '::1',
      '2001:db8::5',
    ]);
  });

  it('does not mistake the value of -p for -6', async () => {
    expect((await resolveIn('-p -6 localhost')).args).toEqual(['-p', '-6', '127.0.0.1']);
  });

  const refusals: [string, ErrorCode][] = [
    ['rebind.example', 'SCANMESH_OUT_OF_SCOPE'],
    ['localhost rebind.example', 'SCANMESH_OUT_OF_SCOPE'],
    ['-6 mapped.example', 'SCANMESH_OUT_OF_SCOPE'],
    ['lan.example/16', 'SCANMESH_OUT_OF_SCOPE'],
    ['v6only.example', 'SCANMESH_BAD_COMMAND'],
    ['nxdomain.example', 'SCANMESH_BAD_COMMAND'],
    ['-oX - localhost', 'SCANMESH_REFUSED_OPTION'],
  ];
  it.each(refusals)('%s → %s', async (args, code) => {
    const err: unknown = await resolveIn(args).then(
      () => 'no error',
      (e: unknown) => e,
    );
    expect(isScanmeshError(err) ? err.code : err).toBe(code);
  });
});
