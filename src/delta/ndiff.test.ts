import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIXTURES, loadPair, PAIRS, rawXml, type PairName } from './fixture-pairs.ts';
import { compareScans } from './scans.ts';

/**
 * Cross-check with nmap's own ndiff: every host or port change ndiff reports on ports both scans
 * covered, scanmesh reports too. ndiff compares whatever two files list, so it also reports ports
 * only one scan probed — those are counted, not asserted. Script and OS lines are not states and
 * do not occur in these pairs.
 */

const hasNdiff = spawnSync('ndiff', ['--help'], { encoding: 'utf8' }).status === 0;

interface NdiffChange {
  host: string;
  /** `31102/tcp`, or null for a `Host is …` line. */
  port: string | null;
}

/** ndiff's text output → the hosts and ports it marks with + or -, each once. */
function parseNdiff(text: string): NdiffChange[] {
  const seen = new Map<string, NdiffChange>();
  let host = '';
  for (const line of text.split('\n')) {
    if (/^[-+]Nmap /.test(line) || /^ PORT /.test(line) || line.trim() === '') continue;
    const state = /^[-+]Host is /.exec(line);
    const row = /^([-+ ])(\d+)\/([a-z]+) /.exec(line);
    if (state) seen.set(`${host} host`, { host, port: null });
    else if (row && row[1] !== ' ') {
      const port = `${row[2]}/${row[3]}`;
      seen.set(`${host} ${port}`, { host, port });
    } else if (/^[-+ ].*:$/.test(line)) host = hostAddress(line);
    else if (/^[-+]Not shown:/.test(line))
      seen.set(`${host} extraports`, { host, port: 'extraports' });
    else throw new Error(`an ndiff line this test does not know: "${line}"`);
  }
  return [...seen.values()];
}

/** ` localhost (127.0.0.1):` or `-10.200.61.2, 52:54:00:61:00:02:` → the IP address. */
function hostAddress(line: string): string {
  const m = /(\d{1,3}(?:\.\d{1,3}){3})/.exec(line);
  if (!m?.[1]) throw new Error(`no IPv4 address in ndiff host line "${line}"`);
  return m[1];
}

/** `<scaninfo protocol services>` read straight from the file, independently of probed.ts. */
function scanned(xml: string): (port: string) => boolean {
  const lists = [...xml.matchAll(/<scaninfo [^>]*protocol="(\w+)"[^>]*services="([^"]*)"/g)];
  return (spec) => {
    const [n, proto] = spec.split('/');
    return lists.some(
      ([, p, services]) =>
        p === proto &&
        (services ?? '').split(',').some((item) => {
          const [lo, hi = lo] = item.split('-').map(Number);
          return Number(n) >= (lo ?? 0) && Number(n) <= (hi ?? -1);
        }),
    );
  };
}

type Verdict =
  'matched' | 'covered by host change' | 'outside common range' | 'host timed out' | 'missing';

/** ndiff is a Python start per call: each pair is checked once and the verdicts shared. */
const checked = new Map<PairName, Record<Verdict, string[]>>();

function crossCheck(name: PairName): Record<Verdict, string[]> {
  const known = checked.get(name);
  if (known !== undefined) return known;
  const verdicts = runCrossCheck(name);
  checked.set(name, verdicts);
  return verdicts;
}

function runCrossCheck(name: PairName): Record<Verdict, string[]> {
  const out = spawnSync('ndiff', [`${name}-1.xml`, `${name}-2.xml`], {
    cwd: FIXTURES,
    encoding: 'utf8',
  });
  if (out.status !== 0 && out.status !== 1) throw new Error(`ndiff failed: ${out.stderr}`);
  const [a, b] = loadPair(name);
  const ours = compareScans(a, b).hosts.flatMap((h) => h.changes);
  const [xmlA, xmlB] = [rawXml(`${name}-1.xml`), rawXml(`${name}-2.xml`)];
  const [inA, inB] = [scanned(xmlA), scanned(xmlB)];
  const timedOut = (host: string): boolean =>
    [xmlA, xmlB].some((x) => new RegExp(`timedout="true">.*\\n<address addr="${host}"`).test(x));
  const verdicts: Record<Verdict, string[]> = {
    matched: [],
    'covered by host change': [],
    'outside common range': [],
    'host timed out': [],
    missing: [],
  };
  for (const c of parseNdiff(out.stdout)) {
    const label = `${c.host} ${c.port ?? 'host state'}`;
    const hostChange = ours.some(
      (o) => o.host === c.host && (o.change === 'host-down' || o.change === 'host-up'),
    );
    let verdict: Verdict;
    if (c.port === null) verdict = hostChange ? 'matched' : 'missing';
    else if (c.port === 'extraports') verdict = 'missing';
    else if (!inA(c.port) || !inB(c.port)) verdict = 'outside common range';
    else if (timedOut(c.host)) verdict = 'host timed out';
    else if (ours.some((o) => o.host === c.host && `${o.port}/${o.protocol}` === c.port)) {
      verdict = 'matched';
    } else verdict = hostChange ? 'covered by host change' : 'missing';
    verdicts[verdict].push(label);
  }
  return verdicts;
}

describe.skipIf(!hasNdiff)('cross-check with ndiff', () => {
  const expected: Record<PairName, Partial<Record<Verdict, string[]>>> = {
    'open-close': { matched: ['127.0.0.1 31102/tcp', '127.0.0.1 31103/tcp'] },
    service: {
      matched: ['127.0.0.1 31110/tcp', '127.0.0.1 31111/tcp', '127.0.0.1 31112/tcp'],
    },
    ranges: {
      matched: ['127.0.0.1 31150/tcp', '127.0.0.1 31155/tcp'],
      'outside common range': ['127.0.0.1 31125/tcp', '127.0.0.1 31175/tcp'],
    },
    silence: { matched: ['10.200.61.2 31180/tcp'] },
    timeout: { 'host timed out': ['10.200.61.2 31180/tcp', '10.200.61.2 31181/tcp'] },
    'gone-sn': { matched: ['10.200.61.2 host state'] },
    'gone-pn': {
      'covered by host change': ['10.200.61.2 31180/tcp', '10.200.61.2 31181/tcp'],
    },
  };
  it.each(PAIRS)(
    '%s: every change ndiff reports on commonly probed ports, scanmesh reports',
    (name) => {
      const verdicts = crossCheck(name);
      expect(verdicts.missing).toEqual([]);
      const nonEmpty = Object.fromEntries(Object.entries(verdicts).filter(([, l]) => l.length > 0));
      expect(nonEmpty).toEqual(expected[name]);
    },
  );

  it("tallies ndiff's changes over all pairs, and where they fell", () => {
    const totals: Record<string, number> = {};
    for (const name of PAIRS) {
      for (const [verdict, labels] of Object.entries(crossCheck(name))) {
        totals[verdict] = (totals[verdict] ?? 0) + labels.length;
      }
    }
    const all = Object.values(totals).reduce((n, v) => n + v, 0);
    // The tally is what a reader of this check wants to see, so it goes into the run's output.
    // eslint-disable-next-line no-console
    console.log(
      `ndiff reported ${all} host/port changes over ${PAIRS.length} pairs: ` +
        Object.entries(totals)
          .map(([k, v]) => `${v} ${k}`)
          .join(', '),
    );
    expect(totals.missing ?? 0).toBe(0);
    expect(totals['outside common range']).toBe(2);
  });
});
