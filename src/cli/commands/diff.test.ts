import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FIXTURES } from '../../delta/fixture-pairs.ts';
import { JOBS, scenario, writeStore } from '../../master/deltas/query-testkit.ts';

/** `scanmesh diff` as a person runs it: the real binary, real fixture files, a real state dir. */

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

function scanmesh(args: string[], cwd = FIXTURES) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // The state dir must come from the test, not from the shell that runs it.
    const env = { ...process.env };
    delete env.SCANMESH_STATE_DIR;
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each case is a process start (tsx compiles the CLI): run them side by side.
describe.concurrent('scanmesh diff --xml', () => {
  it('prints the report and exits 1 when something changed', async ({ expect }) => {
    const r = await scanmesh(['diff', '--xml', 'ranges-1.xml', 'ranges-2.xml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').slice(3)).toEqual([
      ' 127.0.0.1:',
      '-31150/tcp open',
      '+31150/tcp closed',
      '-31155/tcp closed',
      '+31155/tcp open',
      '',
      '1 host compared: 1 changed, 2 changes (0 noisy)',
      '',
    ]);
  });

  it('exits 0 when nothing changed', async ({ expect }) => {
    const r = await scanmesh(['diff', '--xml', 'service-1.xml', 'service-1.xml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n1 host compared: 0 changed, 0 changes \(0 noisy\)\n$/);
  });

  it('prints JSON with --json', async ({ expect }) => {
    const r = await scanmesh(['diff', '--xml', '--json', 'silence-1.xml', 'silence-2.xml']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['old', 'new', 'summary', 'hosts', 'skipped']);
    expect(json.summary).toEqual({
      hostsCompared: 1,
      hostsChanged: 1,
      changes: 1,
      noisyChanges: 1,
      skipped: 0,
    });
    expect(json.hosts).toEqual([
      {
        host: '10.200.61.2',
        baseline: false,
        noisy: true,
        noise: [],
        changes: [
          {
            host: '10.200.61.2',
            port: 31180,
            protocol: 'tcp',
            change: 'port-state',
            before: 'open',
            after: 'filtered',
            job: 'silence-2.xml',
            previousJob: 'silence-1.xml',
            noisy: true,
          },
        ],
      },
    ]);
  });

  it('takes --scripts', async ({ expect }) => {
    const r = await scanmesh(['diff', '--xml', '--scripts', 'gone-sn-1.xml', 'gone-sn-2.xml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('+Host is down (not listed).');
  });

  it.for([
    [
      ['diff', '--xml', 'no-such.xml', 'ranges-2.xml'],
      'SCANMESH_BAD_CONFIG',
      /cannot read no-such\.xml \(ENOENT\)/,
    ],
    [['diff', '--xml', 'ranges-1.xml'], 'SCANMESH_BAD_CONFIG', /exactly two files/],
    [['diff', 'ranges-1.xml', 'ranges-2.xml'], 'SCANMESH_BAD_CONFIG', /use --xml/],
    [['diff', '--xml', '--since', '1h', 'a', 'b'], 'SCANMESH_BAD_CONFIG', /two files/],
  ] as const)('exits 2 with the error code: %j', async ([args, code, message], { expect }) => {
    const r = await scanmesh([...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^scanmesh: ${code}: `));
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 with SCANMESH_BAD_XML for a file that is not nmap XML, naming the file', async ({
    expect,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'scanmesh-diff-'));
    const bad = join(dir, 'bad.xml');
    await writeFile(bad, '<html>not nmap</html>\n');
    try {
      const r = await scanmesh(['diff', '--xml', 'ranges-1.xml', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^scanmesh: SCANMESH_BAD_XML: ${bad}: `));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2, not 1, on a usage error, and 0 for --help', async ({ expect }) => {
    const usage = await scanmesh(['diff', '--xml', '--no-such-flag', 'a', 'b']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown option '--no-such-flag'/);
    const help = await scanmesh(['diff', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /Exit status: 0 when nothing changed, 1 when something did, 2 on error/,
    );
  });
});

// Header lines of the scenario's attempts (query-testkit.ts), as the report names them.
const R1 = `-Nmap 7.93 scan ${JOBS.line}-r1 at 2026-11-21 13:59:52 UTC as: nmap -sT -p 31100-31104 -oX open-close-1.xml 127.0.0.1`;
const R2 = `-Nmap 7.93 scan ${JOBS.line}-r2 at 2026-11-21 13:59:52 UTC as: nmap -sT -p 31100-31104 -oX open-close-1.xml 127.0.0.1`;
const R3 = `+Nmap 7.93 scan ${JOBS.line}-r3 at 2026-11-21 13:59:53 UTC as: nmap -sT -p 31100-31104 -oX open-close-2.xml 127.0.0.1`;
const FIRST = `-Nmap 7.93 scan ${JOBS.first} at 2026-11-21 14:00:06 UTC as: nmap -sT -p 31120-31160 -oX ranges-1.xml 127.0.0.3`;
const BLOCK1 = `+Nmap 7.93 scan ${JOBS.split}.1 at 2026-11-21 14:00:07 UTC as: nmap -sT -p 31140-31180 -oX ranges-2.xml 127.0.0.3`;
const BLOCK2 = `+Nmap 7.93 scan ${JOBS.split}.2 at 2026-11-21 13:59:55 UTC as: nmap -sT -sV -p 31110-31112 -oX service-1.xml 127.0.0.4`;
const SWEEP_A = `-Nmap 7.93 scan ${JOBS.sweepA} at 2026-11-21 14:00:11 UTC as: nmap -sn -oX gone-sn-1.xml 127.0.0.2 10.200.61.2`;
const SWEEP_B = `+Nmap 7.93 scan ${JOBS.sweepB} (attempt 2) at 2026-11-21 14:00:12 UTC as: nmap -sn -oX gone-sn-2.xml 127.0.0.2 10.200.61.2`;
const QUIET_A = `-Nmap 7.93 scan ${JOBS.quietA} at 2026-11-21 14:00:08 UTC as: nmap -sS -p 31180-31181 -oX silence-1.xml 10.200.61.9`;
const QUIET_B = `+Nmap 7.93 scan ${JOBS.quietB} at 2026-11-21 14:00:08 UTC as: nmap -sS -p 31180-31181 -oX silence-2.xml 10.200.61.9`;

const LOCALHOST = [' 127.0.0.1:', '-31102/tcp open', '+31102/tcp closed'];
const LOCALHOST_TAIL = ['-31103/tcp closed', '+31103/tcp open', ''];
/** The line's latest run and 127.0.0.1's latest result are the same comparison: one report. */
const LATEST_LOCALHOST = [
  R2,
  R3,
  '',
  ...LOCALHOST,
  ...LOCALHOST_TAIL,
  '1 host compared: 1 changed, 2 changes (0 noisy)',
  '',
];
const BLOCK1_HOST = [
  ' 127.0.0.3:',
  '-31150/tcp open',
  '+31150/tcp closed',
  '-31155/tcp closed',
  '+31155/tcp open',
  '',
];
const BASELINE = [
  ' 127.0.0.4:',
  '+Baseline (first result for this host): up; open: 31110/tcp http, 31111/tcp ssh, 31112/tcp ftp',
  '',
];
const GONE = [' 10.200.61.2:', '-Host is up.', '+Host is down (not listed).', ''];

describe.concurrent('scanmesh diff from the master store', () => {
  let dir = '';
  let state = '';
  const diff = (...args: string[]) => scanmesh(['diff', ...args, '--state-dir', state]);
  const lines = (stdout: string) => stdout.split('\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-diff-store-'));
    state = join(dir, 'state');
    await writeStore(state, scenario());
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('JOB: the changes of its latest compared attempt, against the scan before', async ({
    expect,
  }) => {
    const r = await diff(JOBS.sweepB);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      SWEEP_A,
      SWEEP_B,
      '',
      ...GONE,
      '2 hosts compared: 1 changed, 1 change (0 noisy)',
      '',
    ]);
  });

  it('a split line: all its blocks together', async ({ expect }) => {
    const r = await diff(JOBS.split);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      FIRST,
      BLOCK1,
      BLOCK2,
      '',
      ...BLOCK1_HOST,
      ...BASELINE,
      '2 hosts compared: 2 changed, 3 changes (0 noisy)',
      '',
    ]);
  });

  it('a recurring line: its latest run', async ({ expect }) => {
    const r = await diff(JOBS.line);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual(LATEST_LOCALHOST);
  });

  it('HOST: its latest result against the previous one', async ({ expect }) => {
    const r = await diff('127.0.0.1');
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual(LATEST_LOCALHOST);
  });

  it('--since: against the latest result at or before then', async ({ expect }) => {
    const [day, hour, recent] = await Promise.all([
      diff('127.0.0.1', '--since', '24h'),
      diff('127.0.0.1', '--since', '90m'),
      diff('127.0.0.1', '--since', '30m'),
    ]);
    expect(day.code).toBe(1);
    expect(lines(day.stdout).slice(0, 2)).toEqual([R1, R3]);
    expect(hour.code).toBe(1);
    expect(lines(hour.stdout).slice(0, 2)).toEqual([R2, R3]);
    // Nothing newer than 30 minutes: the latest result is what it was then.
    expect(recent.code).toBe(0);
    expect(lines(recent.stdout)).toEqual([
      R3.replace('+', '-'),
      expect.stringMatching(/^\+no result after 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
      '',
      '1 host compared: 0 changed, 0 changes (0 noisy)',
      '',
    ]);
  });

  it('--since: a host first seen after then is a baseline', async ({ expect }) => {
    const r = await diff('127.0.0.4', '--since', '1d');
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^-no result at or before 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
      BLOCK2,
      '',
      ...BASELINE,
      '1 host compared: 1 changed, 1 change (0 noisy)',
      '',
    ]);
  });

  it('a host a later sweep covered and left out is down', async ({ expect }) => {
    const r = await diff('10.200.61.2');
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      SWEEP_A,
      SWEEP_B,
      '',
      ...GONE,
      '1 host compared: 1 changed, 1 change (0 noisy)',
      '',
    ]);
  });

  it('no argument: every host, latest against previous, noisy changes marked', async ({
    expect,
  }) => {
    const r = await diff();
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      FIRST,
      SWEEP_A,
      QUIET_A,
      R2,
      BLOCK1,
      BLOCK2,
      R3,
      QUIET_B,
      SWEEP_B,
      '',
      ...GONE,
      ' 10.200.61.9:',
      '-31180/tcp open',
      '+31180/tcp filtered  [noisy]',
      '',
      ...LOCALHOST,
      ...LOCALHOST_TAIL,
      ...BLOCK1_HOST,
      ...BASELINE,
      '6 hosts compared: 5 changed, 7 changes (1 noisy)',
      '',
    ]);
  });

  it('--json: the same data for machines', async ({ expect }) => {
    const r = await diff('--json', '--since', '7d');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['target', 'cutoff', 'old', 'new', 'summary', 'hosts']);
    expect(json.target).toEqual({ kind: 'all' });
    expect(json.cutoff).toBeGreaterThan(Date.now() - 7 * 86_400_000 - 60_000);
    // Nothing was scanned 7 days ago: every host up now is a baseline, the gone one is not news.
    expect(json.old).toEqual([]);
    expect(json.summary).toEqual({
      hostsCompared: 6,
      hostsChanged: 5,
      changes: 5,
      noisyChanges: 0,
      skipped: 0,
    });
    const hosts = json.hosts as { host: string; baseline: boolean }[];
    expect(hosts.map((h) => [h.host, h.baseline])).toEqual([
      ['10.200.61.9', true],
      ['127.0.0.1', true],
      ['127.0.0.2', true],
      ['127.0.0.3', true],
      ['127.0.0.4', true],
    ]);
    const one = JSON.parse((await diff('--json', JOBS.quietB)).stdout) as Record<string, unknown>;
    expect(one.new).toEqual([
      {
        job: JOBS.quietB,
        attempt: 1,
        at: expect.any(Number),
        nmapVersion: '7.93',
        args: 'nmap -sS -p 31180-31181 -oX silence-2.xml 10.200.61.9',
        start: 1795269608,
      },
    ]);
    expect(one.hosts).toEqual([
      {
        host: '10.200.61.9',
        baseline: false,
        noisy: true,
        noise: [],
        changes: [
          {
            host: '10.200.61.9',
            port: 31180,
            protocol: 'tcp',
            change: 'port-state',
            before: 'open',
            after: 'filtered',
            job: JOBS.quietB,
            previousJob: JOBS.quietA,
            noisy: true,
          },
        ],
      },
    ]);
  });

  it.for([
    [['j-0123456789ab-1'], 'SCANMESH_NOT_FOUND', /no job, split line or recurring line/],
    [['10.9.9.9'], 'SCANMESH_NOT_FOUND', /no scan in .* listed 10\.9\.9\.9/],
    [['127.0.0.1', '--since', '1w'], 'SCANMESH_BAD_CONFIG', /--since takes a duration/],
    [[JOBS.split, '--since', '1h'], 'SCANMESH_BAD_CONFIG', /--since compares hosts/],
  ] as const)('exits 2 with the error code: %j', async ([args, code, message], { expect }) => {
    const r = await diff(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^scanmesh: ${code}: `));
    expect(r.stderr).toMatch(message);
  });

  it("reads the master's default state dir, and says so when there is none", async ({ expect }) => {
    const here = await scanmesh(['diff', JOBS.line], dir);
    expect(here.code).toBe(1);
    expect(lines(here.stdout).slice(0, 2)).toEqual([R2, R3]);
    const empty = await mkdtemp(join(tmpdir(), 'scanmesh-diff-empty-'));
    try {
      const none = await scanmesh(['diff'], empty);
      expect(none.code).toBe(2);
      expect(none.stdout).toBe('');
      expect(none.stderr).toMatch(
        /^scanmesh: SCANMESH_NOT_FOUND: no master state dir at \.\/state; /,
      );
      expect(none.stderr).toMatch(/--state-dir .*\/var\/lib\/scanmesh-master/);
      await mkdir(join(empty, 'state'));
      const unscanned = await scanmesh(['diff', '10.0.0.1'], empty);
      expect(unscanned.code).toBe(2);
      expect(unscanned.stderr).toMatch(/^scanmesh: SCANMESH_NOT_FOUND: no compared scan in/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
