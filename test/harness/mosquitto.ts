import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/**
 * A private Mosquitto for tests: anonymous, one listener on 127.0.0.1 on a free port, nothing
 * else. `stop()`/`start()` take it away and bring it back on the same port, as an operator
 * restarting the broker would.
 *
 * No persistence, on purpose: a restart then loses every session, subscription and queued QoS 1
 * message, which is the harshest broker restart there is. scanmesh must not rely on the broker
 * keeping anything across a restart: workers resend from their spool, the master re-announces
 * itself and requeues jobs whose JOB message was lost.
 */
export interface MosquittoHandle {
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for the exit; the port is free afterwards. Safe to call when stopped. */
  stop(): Promise<void>;
  /** Start again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stop for good and remove the config dir. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startMosquitto(binary = 'mosquitto'): Promise<MosquittoHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'scanmesh-mosquitto-'));
  const confPath = join(dir, 'mosquitto.conf');
  let port = 0;
  let child: ChildProcess | null = null;
  let lastError: unknown;
  for (let i = 0; i < PORT_ATTEMPTS && child === null; i++) {
    port = await freePort();
    await writeFile(confPath, conf(port));
    try {
      child = await launch(binary, confPath, port);
    } catch (err) {
      lastError = err;
    }
  }
  if (child === null) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  let current: ChildProcess | null = child;
  const stop = async () => {
    const running = current;
    current = null;
    if (running) await terminate(running);
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop,
    start: async () => {
      if (!current) current = await launch(binary, confPath, port);
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function conf(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Run as root (CI containers), mosquitto would switch to its own user; nothing here needs that.
    'user root',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

async function launch(binary: string, confPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (tail = (tail + t).slice(-4000)));
  const state: { exited: string | null } = { exited: null };
  child.once('exit', (code, signal) => {
    live.delete(child);
    state.exited = `exited (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => (state.exited = `could not start: ${err.message}`));
  for (const until = Date.now() + START_TIMEOUT_MS; Date.now() < until && !state.exited;) {
    if (await accepts(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  await terminate(child);
  throw new Error(`mosquitto on 127.0.0.1:${port} ${state.exited ?? 'did not listen'}: ${tail}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
