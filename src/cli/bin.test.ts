import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from './node-flags.js';

/** `scanmesh worker` as `npx` starts it: node with no options of its own, then bin.js. */

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

/** Settings must come from the test, not from the shell that runs it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('SCANMESH_')) delete env[key];
  return env;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out.stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  started.push(proc.pid as number);
  return { proc, out, exited };
}

/** Linux: the pids of a process's children, and a process's command line. */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.split(' ').filter(Boolean).map(Number);
}
async function commandLine(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}
/** Running: neither gone nor dead and waiting to be reaped (an orphan's parent may never reap). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string | null = null;
/** Processes a failed test may have left running. */
const started: number[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe.skipIf(process.platform !== 'linux')('bin.js relaunches a worker', () => {
  it('hands back the exit code and the message of the worker it relaunched', async () => {
    const { out, exited } = start(['worker']);
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('SCANMESH_BAD_CONFIG: --broker-url is required');
  });

  /** A worker started as `npx` would, trying a broker that refuses it until it is stopped. */
  async function startWorker(env: NodeJS.ProcessEnv = {}) {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-bin-'));
    const args = [
      'worker',
      '--broker-url',
      'mqtt://127.0.0.1:1',
      '--id',
      'relaunched',
      '--state-dir',
      dir,
      '--insecure-unsigned-jobs',
      '--nmap',
      join(dir, 'no-nmap'),
    ];
    const worker = start(args, env);
    // Logged once the worker is up, its shutdown handler in place.
    await until('the worker to try the broker', () =>
      worker.out.stdout.includes('broker unreachable'),
    );
    return { ...worker, args };
  }

  async function startRelaunchedWorker(env: NodeJS.ProcessEnv = {}) {
    const worker = await startWorker(env);
    const [child, ...others] = await childrenOf(worker.proc.pid as number);
    expect(others).toEqual([]);
    started.push(child as number);
    return { ...worker, child: child as number };
  }

  it("runs the worker under the worker's V8 options, and a SIGINT for it stops it cleanly", async () => {
    const { proc, out, exited, args, child } = await startRelaunchedWorker();
    expect(await commandLine(child)).toEqual([
      process.execPath,
      ...WORKER_NODE_FLAGS,
      BIN,
      ...args,
    ]);
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.stdout).toContain('"signal":"SIGTERM","msg":"stopping"');
    expect(alive(child)).toBe(false);
  });

  it('leaves an option NODE_OPTIONS gives to the person who gave it', async () => {
    // Of the two, only the young generation's size is allowed in NODE_OPTIONS.
    const { proc, exited, child } = await startRelaunchedWorker({
      NODE_OPTIONS: '--max-semi-space-size=8',
    });
    const flags = (await commandLine(child)).filter((a) => a.startsWith('--') && a.includes('='));
    expect(flags.filter((f) => WORKER_NODE_FLAGS.includes(f))).toEqual([
      '--heap-growing-percent=20',
    ]);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('the worker goes too when the process that was started is killed outright', async () => {
    const { proc, exited, child } = await startRelaunchedWorker();
    expect(alive(child)).toBe(true);
    proc.kill('SIGKILL');
    await exited;
    await until('the relaunched worker to go', () => !alive(child), 10_000);
  });
});

describe('errors of the operating system at start', () => {
  it('a port in use ends `scanmesh broker` with SCANMESH_OS_ERROR and exit 2, not a stack trace', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-bin-'));
    try {
      const { out, exited } = start([
        'broker',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--allow-anonymous',
        '--users',
        join(dir, 'users.json'),
      ]);
      expect(await exited).toBe(2);
      expect(out.stderr).toContain(`scanmesh: SCANMESH_OS_ERROR: listen EADDRINUSE`);
      expect(out.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

describe('scanmesh demo', () => {
  it('scans what its commands file holds and exits 0, though port 1883 is taken', async () => {
    // 1883 held for the test (or already held by a broker this machine runs): the demo must not
    // need it.
    const mqttPort = createServer();
    await new Promise<void>((r) => {
      mqttPort.once('error', () => r());
      mqttPort.listen(1883, '127.0.0.1', r);
    });
    const target = createServer((s) => s.destroy());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const { port } = target.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-demo-test-'));
    try {
      const commands = join(dir, 'commands.txt');
      await writeFile(commands, `nmap -sT -Pn -p ${port} 127.0.0.1\n`);
      const { out, exited } = start(['demo', '--commands', commands]);
      expect(await exited).toBe(0);
      expect(out.stdout + out.stderr).toContain(`${port}/tcp`);
    } finally {
      await new Promise((r) => target.close(r));
      if (mqttPort.listening) await new Promise((r) => mqttPort.close(r));
    }
  });
});
