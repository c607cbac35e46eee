import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ScanmeshError } from '../errors.ts';
import type { HostResult } from './result.ts';
import { runNmap } from './runner.ts';

// Real nmap against listeners this file opens on 127.0.0.1; only their ports are scanned.

const servers: Server[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'scanmesh-runner-'));

afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function listen(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nobody listens on: one this test held and released. */
async function closedPort(): Promise<number> {
  const port = await listen();
  const server = servers.pop();
  if (server !== undefined) await close(server);
  return port;
}

/** Processes whose parent is this test process (nmap and the fake nmaps below). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked: not a child any more.
    }
  }
  return pids;
}

/** Samples this process's children every 50 ms until the returned function is called. */
function watchChildren(onSeen: () => void = () => undefined): () => number[] {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    for (const pid of childPids()) seen.add(pid);
    if (seen.size > 0) onSeen();
  }, 50);
  return () => {
    clearInterval(timer);
    return [...seen];
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function script(name: string, body: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const openPorts = (h: HostResult) => h.ports.filter((p) => p.state === 'open').map((p) => p.port);
const closedPorts = (h: HostResult) =>
  h.ports.filter((p) => p.state === 'closed').map((p) => p.port);

describe('runNmap with real nmap', () => {
  it('streams the host with exactly the open ports it listened on', async () => {
    const [a, b, shut] = [await listen(), await listen(), await closedPort()];
    const seen: string[] = [];
    const hosts: HostResult[] = [];
    const outcome = await runNmap({
      args: ['-sT', '-Pn', '-p', `${a},${b},${shut}`, '127.0.0.1'],
      timeoutMs: 60_000,
      onMeta: () => seen.push('meta'),
      onHost: (h) => {
        seen.push('host');
        hosts.push(h);
      },
    });
    expect(outcome).toMatchObject({ status: 'completed', exitCode: 0, code: '', error: '' });
    expect(seen).toEqual(['meta', 'host']);
    expect(outcome.hostCount).toBe(1);
    expect(hosts[0]?.address).toBe('127.0.0.1');
    expect(openPorts(hosts[0] as HostResult).sort()).toEqual([a, b].sort());
    expect(closedPorts(hosts[0] as HostResult)).toEqual([shut]);
    expect(outcome.meta?.args).toContain(`-p ${a},${b},${shut}`);
    expect(outcome.meta?.args).toMatch(/-oX - 127\.0\.0\.1$/);
    expect(outcome.stats).toMatchObject({ exit: 'success', hostsUp: 1, hostsTotal: 1 });
    expect(outcome.finishedAt).toBeGreaterThanOrEqual(outcome.startedAt);
  });

  it('reports host 1 while nmap is still scanning host 2', async () => {
    const port = await listen();
    const aliveAtHost: Record<string, boolean> = {};
    const outcome = await runNmap({
      args: [
        '-sT',
        '-Pn',
        '--max-hostgroup',
        '1',
        '--scan-delay',
        '1s',
        '-p',
        `${port}`,
        '127.0.0.1',
        '127.0.0.2',
      ],
      timeoutMs: 60_000,
      onHost: (h) => (aliveAtHost[h.address] = childPids().some(alive)),
    });
    expect(outcome).toMatchObject({ status: 'completed', hostCount: 2 });
    expect(aliveAtHost['127.0.0.1']).toBe(true);
    expect(Object.keys(aliveAtHost)).toEqual(['127.0.0.1', '127.0.0.2']);
  });

  it('stops nmap at the timeout and leaves no process behind', async () => {
    const ports = [];
    for (let i = 0; i < 6; i++) ports.push(await listen());
    const watching = watchChildren();
    const outcome = await runNmap({
      args: ['-sT', '-Pn', '--scan-delay', '1s', '-p', ports.join(','), '127.0.0.1'],
      timeoutMs: 1_500,
    });
    const seen = watching();
    expect(outcome).toMatchObject({
      status: 'timeout',
      code: 'SCANMESH_NMAP_TIMEOUT',
      exitCode: null, // ended by the signal, not by finishing the scan
      hostCount: 0,
      stats: null,
    });
    // The header nmap flushed before it was stopped is still reported.
    expect(outcome.meta?.scanInfo[0]).toMatchObject({ type: 'connect', numServices: 6 });
    expect(seen).toHaveLength(1);
    expect(seen.filter(alive)).toEqual([]);
  });

  it('stops nmap when the signal aborts', async () => {
    const ports = [await listen(), await listen(), await listen()];
    const controller = new AbortController();
    const watching = watchChildren(() => controller.abort());
    const outcome = await runNmap({
      args: ['-sT', '-Pn', '--scan-delay', '1s', '-p', ports.join(','), '127.0.0.1'],
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    const seen = watching();
    expect(outcome).toMatchObject({ status: 'failed', code: '', error: 'cancelled', hostCount: 0 });
    expect(seen).toHaveLength(1);
    expect(seen.filter(alive)).toEqual([]);
  });

  it('does not start nmap for an already aborted signal', async () => {
    const outcome = await runNmap({
      args: ['-sT', '-p', `${await listen()}`, '127.0.0.1'],
      timeoutMs: 60_000,
      signal: AbortSignal.abort(),
    });
    expect(outcome).toMatchObject({ status: 'failed', error: 'cancelled', exitCode: null });
    expect(outcome.meta).toBeNull();
  });

  it("fails with nmap's own message when nmap refuses its arguments", async () => {
    const outcome = await runNmap({ args: ['-sT', '-p', '70000', '127.0.0.1'], timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ status: 'failed', code: 'SCANMESH_NMAP_FAILED', exitCode: 1 });
    expect(outcome.error).toMatch(/between 0 and 65535/);
  });
});

const asRoot = process.getuid?.() === 0;
const hasSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!asRoot || !hasSetpriv)('runNmap without raw-socket privileges', () => {
  const unprivileged = () =>
    script('nmap-nobody', 'exec setpriv --reuid=65534 --regid=65534 --clear-groups nmap "$@"');

  it('fails with SCANMESH_NEEDS_ROOT when nmap refuses a SYN scan', async () => {
    const outcome = await runNmap({
      args: ['-sS', '-p', `${await listen()}`, '127.0.0.1'],
      timeoutMs: 60_000,
      nmapPath: unprivileged(),
    });
    expect(outcome).toMatchObject({ status: 'failed', code: 'SCANMESH_NEEDS_ROOT', exitCode: 1 });
    expect(outcome.error).toContain('requires root privileges');
    expect(outcome.meta).toBeNull();
  });

  it('fails with SCANMESH_NEEDS_ROOT when a forced raw socket is refused', async () => {
    const outcome = await runNmap({
      args: ['--privileged', '-sS', '-p', `${await listen()}`, '127.0.0.1'],
      timeoutMs: 60_000,
      nmapPath: unprivileged(),
    });
    expect(outcome).toMatchObject({ status: 'failed', code: 'SCANMESH_NEEDS_ROOT' });
    expect(outcome.error).toContain("Couldn't open a raw socket");
    expect(outcome.stats?.exit).toBe('error');
  });
});

describe('runNmap with a stand-in for nmap', () => {
  it('reports a missing binary as SCANMESH_NMAP_FAILED', async () => {
    const outcome = await runNmap({
      args: ['-sn', '127.0.0.1'],
      timeoutMs: 60_000,
      nmapPath: join(scratch, 'no-such-nmap'),
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      code: 'SCANMESH_NMAP_FAILED',
      exitCode: null,
    });
    expect(outcome.error).toContain('no-such-nmap');
  });

  it('passes arguments verbatim, without a shell, and appends -oX -', async () => {
    const echo = script('nmap-echo', 'printf "%s\\n" "$@" >&2\nexit 3');
    const args = ['-p', '1;touch /tmp/pwned', '$(id)', 'a b'];
    const outcome = await runNmap({ args, timeoutMs: 60_000, nmapPath: echo });
    expect(outcome).toMatchObject({ status: 'failed', exitCode: 3, code: 'SCANMESH_NMAP_FAILED' });
    expect(outcome.error.split('\n')).toEqual([...args, '-oX', '-']);
  });

  it('stops a run whose XML turns malformed, without waiting for it', async () => {
    const garbled = script(
      'nmap-garbled',
      [
        `printf '<?xml version="1.0"?>\\n<nmaprun args="x" start="1" version="7.93">\\n'`,
        `printf '<verbose level="0"/>\\nnot xml at all\\n'`,
        'exec sleep 60',
      ].join('\n'),
    );
    let during: number[] = [];
    const outcome = await runNmap({
      args: [],
      timeoutMs: 60_000,
      nmapPath: garbled,
      onMeta: () => (during = childPids()),
    });
    expect(outcome).toMatchObject({ status: 'failed', code: 'SCANMESH_BAD_XML' });
    expect(during).toHaveLength(1);
    expect(during.filter(alive)).toEqual([]);
  });

  it('kills a stand-in that ignores SIGTERM', async () => {
    const stubborn = script('nmap-stubborn', "trap '' TERM\nexec sleep 60");
    const watching = watchChildren();
    const outcome = await runNmap({ args: [], timeoutMs: 300, nmapPath: stubborn });
    const seen = watching();
    expect(outcome).toMatchObject({ status: 'timeout', exitCode: null });
    expect(seen).toHaveLength(1);
    expect(seen.filter(alive)).toEqual([]);
  });

  it('stops the run with the error a host handler throws', async () => {
    const outcome = await runNmap({
      args: ['-sT', '-Pn', '-p', `${await listen()}`, '127.0.0.1'],
      timeoutMs: 60_000,
      onHost: () => {
        throw new ScanmeshError('SCANMESH_STORE_FAILED', 'disk full');
      },
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      code: 'SCANMESH_STORE_FAILED',
      error: 'disk full',
    });
  });
});
