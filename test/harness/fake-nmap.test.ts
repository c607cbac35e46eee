import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HostResult, RunStats, ScanMeta } from '../../src/nmap/result.ts';
import { runNmap } from '../../src/nmap/runner.ts';
import { nmapVersion } from '../../src/nmap/version.ts';
import { createNmapXmlParser } from '../../src/nmap/xml-stream.ts';
import { compileFakeNmap } from './fake-nmap-compiled.ts';
import { expandTarget, expectedOpenPorts, parseArgs, poisonOf } from './fake-nmap.ts';

const FAKE = fileURLToPath(new URL('./fake-nmap', import.meta.url));

function runFake(args: string[], fake = FAKE): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve) => {
    execFile(fake, args, { env: { ...process.env, SCANMESH_FAKE_DELAY_MS: '10' } }, (err, stdout) =>
      resolve({ stdout, code: err ? ((err as { code?: number }).code ?? null) : 0 }),
    );
  });
}

/** Feeds the text to the worker's own streaming parser in small chunks, as a pipe would. */
function parse(xml: string) {
  const hosts: HostResult[] = [];
  let meta: ScanMeta | null = null;
  let stats: RunStats | null = null;
  const parser = createNmapXmlParser({
    onMeta: (m) => (meta = m),
    onHost: (h) => hosts.push(h),
    onStats: (s) => (stats = s),
  });
  for (let i = 0; i < xml.length; i += 97) parser.write(xml.slice(i, i + 97));
  parser.end();
  return { hosts, meta: meta as ScanMeta | null, stats: stats as RunStats | null };
}

describe('fake nmap', () => {
  it('expands targets and port lists as nmap reads them', () => {
    expect(expandTarget('127.1.2.3')).toEqual(['127.1.2.3']);
    expect(expandTarget('127.1.2-3.4,6')).toEqual([
      '127.1.2.4',
      '127.1.2.6',
      '127.1.3.4',
      '127.1.3.6',
    ]);
    expect(expandTarget('127.0.0.0/30')).toHaveLength(4);
    const cmd = parseArgs(['-sT', '-Pn', '-p', '1-3,10', '127.0.0.1', '127.0.0.2', '-oX', '-']);
    expect(cmd).toEqual({
      targets: ['127.0.0.1', '127.0.0.2'],
      ports: [1, 2, 3, 10],
      args: ['-sT', '-Pn', '-p', '1-3,10', '127.0.0.1', '127.0.0.2'],
    });
    expect(poisonOf('127.66.2.9')).toBe('hang');
    expect(poisonOf('127.1.2.3')).toBeNull();
  });

  it('opens one to four of the requested ports, the same ones every time', () => {
    const ports = Array.from({ length: 20 }, (_, i) => i + 1);
    for (let i = 0; i < 50; i++) {
      const open = expectedOpenPorts(`127.1.0.${i}`, ports);
      expect(open.length).toBeGreaterThanOrEqual(1);
      expect(open.length).toBeLessThanOrEqual(4);
      expect(open.every((p) => ports.includes(p))).toBe(true);
      expect(expectedOpenPorts(`127.1.0.${i}`, ports)).toEqual(open);
    }
    expect(expectedOpenPorts('127.0.0.1', [443])).toEqual([443]);
  });

  it('prints XML the worker parser reads: one host per target with exactly the expected ports', async () => {
    const { stdout, code } = await runFake(['-sT', '-Pn', '-p', '1-20', '127.1.2.1-3', '-oX', '-']);
    expect(code).toBe(0);
    const { hosts, meta, stats } = parse(stdout);
    expect(meta).toMatchObject({ nmapVersion: '7.93', args: expect.stringContaining('-p 1-20') });
    expect(meta?.scanInfo).toEqual([
      { type: 'connect', protocol: 'tcp', numServices: 20, services: '1-20' },
    ]);
    expect(stats).toMatchObject({ exit: 'success', hostsUp: 3, hostsDown: 0, hostsTotal: 3 });
    expect(hosts.map((h) => h.address)).toEqual(['127.1.2.1', '127.1.2.2', '127.1.2.3']);
    const ports = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const h of hosts) {
      expect(h.state).toBe('up');
      expect(h.ports.map((p) => p.port)).toEqual(expectedOpenPorts(h.address, ports));
      expect(h.ports.every((p) => p.state === 'open' && p.protocol === 'tcp')).toBe(true);
      expect(h.extraPorts).toEqual([{ state: 'closed', count: 20 - h.ports.length }]);
    }
  });

  it('runs under the real nmap runner, including each poison behaviour', async () => {
    expect(await nmapVersion(FAKE)).toBe('7.93');
    const run = (target: string, timeoutMs = 20_000) =>
      runNmap({ args: ['-sT', '-Pn', '-p', '1-5', target], timeoutMs, nmapPath: FAKE });

    const [ok, crash, segv, bad, hang] = await Promise.all([
      run('127.1.0.1'),
      run('127.66.0.1'),
      run('127.66.1.1'),
      run('127.66.3.1'),
      run('127.66.2.1', 1_500),
    ]);
    expect(ok).toMatchObject({ status: 'completed', exitCode: 0, hostCount: 1 });
    expect(crash).toMatchObject({ status: 'failed', code: 'SCANMESH_NMAP_FAILED', exitCode: 1 });
    expect(crash.error).toContain('simulated crash');
    expect(segv).toMatchObject({ status: 'failed', code: 'SCANMESH_NMAP_FAILED' });
    expect(segv.error).toContain('SIGSEGV');
    expect(bad).toMatchObject({ status: 'failed', code: 'SCANMESH_BAD_XML' });
    expect(hang).toMatchObject({ status: 'timeout', code: 'SCANMESH_NMAP_TIMEOUT' });
  });

  it('compiled to plain JavaScript (as the chaos runner spawns it), prints the same scan', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scanmesh-fake-nmap-'));
    try {
      const compiled = await compileFakeNmap(dir);
      const args = ['-sT', '-Pn', '-p', '1-20,80', '127.1.9.1-2', '-oX', '-'];
      const [a, b] = await Promise.all([runFake(args), runFake(args, compiled)]);
      expect(b.code).toBe(0);
      // Host timestamps may differ by a second; addresses and ports may not.
      const shape = (xml: string) => parse(xml).hosts.map((h) => [h.address, h.ports]);
      expect(shape(b.stdout)).toEqual(shape(a.stdout));
      expect(await nmapVersion(compiled)).toBe('7.93');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
