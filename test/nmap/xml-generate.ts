import type { Prng } from '../fuzz/prng.ts';

/**
 * Random nmap `-oX` documents for the differential test: the elements nmap writes, in the places
 * it writes them and in places it never would, repeated, left out, with attribute values nmap
 * writes and values it never would (entities, bad numbers, multi-byte text), and now and then a
 * document broken on purpose. Element names never include `_`, the text key of the xml2js tree:
 * on that one the old mapping tripped over itself (see the differential test).
 */

const INTS = ['0', '22', '80', '443', '65535', '1700000000', '97'];
const PORTS = ['22', '80', '443', '65535', '0', '97'];
/** Numbers nmap never writes: some Number() still takes, some the mapping refuses. */
const ODD_NUMBERS = [
  ' 7 ',
  '1e3',
  '0x10',
  '-0',
  '',
  '1.5',
  '65536',
  '-1',
  'http',
  'NaN',
  'Infinity',
];
const DECIMALS = ['0.474', '2.00', '1e-3', '.5', '120'];
const TEXTS = [
  '',
  'up',
  'down',
  'syn-ack',
  'a &amp; b',
  '&lt;host&gt;',
  '&#x41;&#66;',
  '&quot;q&quot; &apos;',
  '&copy;',
  'caf\u00e9 \u2713 \u{1f600}',
  ' spaced ',
  'x'.repeat(300),
];
const CPE_TEXTS = ['cpe:/a:x:y', '', ' ', '\n', '\u00a0', ' a ', 'a&amp;b', '&#32;', 'caf\u00e9'];
const JUNK = ['uptime', 'distance', 'tcpsequence', 'smurf', 'x:port', 'elem', 'portused'];

type Gen = (rng: Prng) => string;

function value(rng: Prng, values: readonly string[]): string {
  return rng.chance(0.015) ? rng.pick(ODD_NUMBERS) : rng.pick(values);
}

/** Attributes in the given order, each present with probability 0.95 unless told otherwise. */
function attrs(
  rng: Prng,
  spec: readonly (readonly [string, readonly string[], number?])[],
): string {
  let out = '';
  for (const [name, values, presence = 0.95] of spec) {
    if (!rng.chance(presence)) continue;
    const v = value(rng, values);
    out += rng.chance(0.1) && !v.includes("'") ? ` ${name}='${v}'` : ` ${name}="${v}"`;
  }
  if (rng.chance(0.03)) out += ` ${rng.pick(['reason_ttl', 'method', 'conf'])}="1"`;
  return out;
}

function sep(rng: Prng): string {
  return rng.pick(['', '\n', '\n  ', ' ']);
}

/** An element with the given attributes and children, self-closed when it has none. */
function el(rng: Prng, name: string, attributes: string, children: readonly Gen[]): string {
  const inner = children.map((child) => sep(rng) + child(rng)).join('');
  if (inner === '' && rng.chance(0.8)) return `<${name}${attributes}/>`;
  return `<${name}${attributes}>${inner}${sep(rng)}</${name}>`;
}

/** Between lo and hi of the given generators, chosen at random. */
function some(rng: Prng, lo: number, hi: number, gens: readonly Gen[]): Gen[] {
  const out: Gen[] = [];
  const n = rng.between(lo, hi);
  for (let i = 0; i < n; i++) out.push(rng.pick(gens));
  return out;
}

function shuffle<T>(rng: Prng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

const junk: Gen = (rng) =>
  el(rng, rng.pick(JUNK), attrs(rng, [['value', TEXTS]]), rng.chance(0.3) ? [junk] : []);

/** Any element nmap writes inside a host, for putting where it does not belong. */
const stray: Gen = (rng) => rng.pick([status, address, times, state, service, cpe, script])(rng);

const status: Gen = (rng) =>
  el(
    rng,
    'status',
    attrs(rng, [
      ['state', ['up', 'down', 'unknown', 'skipped', '']],
      ['reason', TEXTS],
    ]),
    some(rng, 0, 1, [junk]),
  );

const address: Gen = (rng) =>
  el(
    rng,
    'address',
    attrs(rng, [
      ['addr', ['127.0.0.1', '::1', '52:54:00:12:34:56', '', '10.0.0.&#49;']],
      ['addrtype', ['ipv4', 'ipv4', 'ipv4', 'ipv6', 'mac'], 0.99],
      ['vendor', TEXTS],
    ]),
    [],
  );

/** The address nmap always writes first; the generic one may be a MAC, or odder. */
const ipAddress: Gen = (rng) =>
  `<address addr="${rng.pick(['127.0.0.1', '::1'])}" addrtype="${rng.pick(['ipv4', 'ipv6'])}"/>`;

const hostname: Gen = (rng) =>
  el(
    rng,
    'hostname',
    attrs(rng, [
      ['name', TEXTS],
      ['type', ['PTR', 'user']],
    ]),
    [],
  );

const hostnames: Gen = (rng) =>
  el(rng, 'hostnames', '', some(rng, 0, 3, [hostname, hostname, hostname, junk, stray]));

const state: Gen = (rng) =>
  el(
    rng,
    'state',
    attrs(rng, [
      ['state', ['open', 'closed', 'filtered', 'open|filtered']],
      ['reason', TEXTS],
    ]),
    [],
  );

/** A `<cpe>` whose text may be blank, split around a child, or next to attributes. */
const cpe: Gen = (rng) => {
  const attributes = rng.chance(0.2) ? ' kind="a"' : '';
  const parts = [rng.pick(CPE_TEXTS)];
  if (rng.chance(0.2)) parts.push(rng.pick(['<i/>', '<?pi x?>', '<b>in</b>']), rng.pick(CPE_TEXTS));
  const text = parts.join('');
  return text === '' && rng.chance(0.5) ? `<cpe${attributes}/>` : `<cpe${attributes}>${text}</cpe>`;
};

const service: Gen = (rng) =>
  el(
    rng,
    'service',
    attrs(rng, [
      ['name', ['http', 'ssh', '']],
      ['product', TEXTS],
      ['version', TEXTS],
      ['extrainfo', TEXTS],
      ['method', ['probed', 'table']],
    ]),
    some(rng, 0, 3, [cpe, cpe, cpe, junk]),
  );

const tableElem: Gen = (rng) =>
  el(rng, rng.pick(['elem', 'table']), attrs(rng, [['key', TEXTS]]), some(rng, 0, 1, [tableElem]));

const script: Gen = (rng) =>
  el(
    rng,
    'script',
    attrs(rng, [
      ['id', ['http-title', 'banner', '']],
      ['output', TEXTS],
    ]),
    some(rng, 0, 2, [tableElem, script]),
  );

const port: Gen = (rng) =>
  el(
    rng,
    'port',
    attrs(rng, [
      ['protocol', ['tcp', 'udp', 'sctp']],
      ['portid', PORTS, 0.99],
    ]),
    some(rng, 0, 5, [state, state, service, service, script, script, junk, port, stray]),
  );

const extraports: Gen = (rng) =>
  el(
    rng,
    'extraports',
    attrs(rng, [
      ['state', ['closed', 'filtered']],
      ['count', INTS, 0.99],
    ]),
    some(rng, 0, 1, [(r) => el(r, 'extrareasons', attrs(r, [['count', INTS]]), [])]),
  );

const ports: Gen = (rng) =>
  el(rng, 'ports', '', some(rng, 0, 5, [port, port, port, extraports, junk, stray]));

const times: Gen = (rng) =>
  el(
    rng,
    'times',
    attrs(rng, [
      ['srtt', DECIMALS],
      ['rttvar', DECIMALS],
      ['to', INTS],
    ]),
    [],
  );

const osmatch: Gen = (rng) =>
  el(
    rng,
    'osmatch',
    attrs(rng, [
      ['name', TEXTS],
      ['accuracy', INTS, 0.99],
    ]),
    some(rng, 0, 1, [(r) => el(r, 'osclass', attrs(r, [['accuracy', INTS]]), [])]),
  );

const os: Gen = (rng) => el(rng, 'os', '', some(rng, 0, 3, [osmatch, osmatch, junk, stray]));

const hostscript: Gen = (rng) => el(rng, 'hostscript', '', some(rng, 0, 2, [script, junk]));

const HOST_PARTS: readonly Gen[] = [
  status,
  address,
  address,
  hostnames,
  ports,
  ports,
  times,
  os,
  hostscript,
  junk,
  port,
  hostname,
];

function hostElement(rng: Prng): string {
  const children = [ipAddress, ...some(rng, 0, 8, HOST_PARTS)];
  if (rng.chance(0.03)) children.shift();
  if (rng.chance(0.3)) shuffle(rng, children);
  return el(
    rng,
    'host',
    attrs(rng, [
      ['starttime', INTS],
      ['endtime', INTS],
    ]),
    children,
  );
}

const NOISE: readonly Gen[] = [
  (rng) => el(rng, 'taskbegin', attrs(rng, [['task', TEXTS]]), []),
  (rng) => el(rng, 'taskprogress', attrs(rng, [['percent', DECIMALS]]), []),
  (rng) => el(rng, 'hosthint', '', [status, address]),
  (rng) => `<output type="interactive">${rng.pick(TEXTS)}</output>`,
  () => '<!-- a comment between hosts -->',
];

function runstats(rng: Prng): string {
  const finished: Gen = (r) =>
    el(
      r,
      'finished',
      attrs(r, [
        ['time', INTS],
        ['elapsed', DECIMALS],
        ['summary', TEXTS],
        ['exit', ['success', 'error']],
        ['errormsg', TEXTS],
      ]),
      [],
    );
  const hosts: Gen = (r) =>
    el(
      r,
      'hosts',
      attrs(r, [
        ['up', INTS],
        ['down', INTS],
        ['total', INTS],
      ]),
      [],
    );
  const nested: Gen = (r) => el(r, 'x', '', [r.pick([finished, hosts])]);
  return el(rng, 'runstats', '', some(rng, 0, 3, [finished, hosts, junk, nested]));
}

function nmaprun(rng: Prng): string {
  if (rng.chance(0.05)) return '<nmaprun>';
  return `<nmaprun${attrs(rng, [
    ['scanner', ['nmap']],
    ['args', TEXTS],
    ['start', INTS, 0.99],
    ['version', ['7.93', '']],
  ])}>`;
}

const scaninfo: Gen = (rng) =>
  el(
    rng,
    'scaninfo',
    attrs(rng, [
      ['type', ['connect', 'syn']],
      ['protocol', ['tcp', 'udp']],
      ['numservices', INTS, 0.99],
      ['services', ['1-1000', '80']],
    ]),
    some(rng, 0, 1, [junk]),
  );

/** One whole document, broken on purpose one time in five. */
export function nmapDocument(rng: Prng): string {
  const parts: string[] = [];
  if (rng.chance(0.8)) parts.push('<?xml version="1.0" encoding="UTF-8"?>');
  if (rng.chance(0.7)) parts.push('<!DOCTYPE nmaprun>');
  if (rng.chance(0.5)) parts.push('<!-- Nmap 7.93 scan -->');
  parts.push(nmaprun(rng));
  for (const gen of some(rng, 0, 2, [scaninfo])) parts.push(gen(rng));
  if (rng.chance(0.5)) parts.push('<verbose level="0"/>');
  const hosts = rng.between(0, 6);
  for (let i = 0; i < hosts; i++) {
    if (rng.chance(0.3)) parts.push(rng.pick(NOISE)(rng));
    parts.push(hostElement(rng));
  }
  if (rng.chance(0.9)) parts.push(runstats(rng));
  if (rng.chance(0.95)) parts.push('</nmaprun>');
  const doc = parts.join('\n') + '\n';
  return rng.chance(0.2) ? broken(rng, doc) : doc;
}

function broken(rng: Prng, doc: string): string {
  const at = rng.int(doc.length);
  const insert = rng.pick([
    '<',
    '>',
    '&',
    '"',
    '</host>',
    '<!-- x -->',
    '<![CDATA[x]]>',
    '<!ENTITY x "y">',
    '&xxe;',
    'text',
    '<host>',
  ]);
  switch (rng.int(3)) {
    case 0:
      return doc.slice(0, at) + doc.slice(at + 1);
    case 1:
      return doc.slice(0, at) + insert + doc.slice(at);
    default:
      return doc.slice(0, at);
  }
}
