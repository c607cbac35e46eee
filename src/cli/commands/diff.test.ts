import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { FIXTURES } from '../../delta/fixture-pairs.ts';

/** `scanmesh diff --xml` as a person runs it: the real binary, real fixture files. */

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

function scanmesh(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: FIXTURES });
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
