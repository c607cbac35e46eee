import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './free-port.ts';

/**
 * A private influxd 1.x for integration tests: its own temp dir, its own loopback ports, nothing
 * shared with any other InfluxDB on the machine. Usage:
 *
 *   let influxd: InfluxdHandle;
 *   beforeAll(async () => { influxd = await startInfluxd(); });
 *   afterAll(async () => { await influxd?.stop(); });
 *
 * `pause()`/`resume()` simulate an outage: the server goes away and comes back on the same port
 * with the same data.
 */
export interface InfluxdHandle {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding config, meta, data and wal. Removed by `stop()`. */
  readonly dataDir: string;
  /** The running influxd's process id; null while paused or stopped. */
  readonly pid: number | null;
  /** Kill influxd and remove its temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Kill influxd but keep its data and port, for outage tests. */
  pause(): Promise<void>;
  /** Start influxd again on the same config (same port, same data); resolves once it answers. */
  resume(): Promise<void>;
  /** `pause()` then `resume()`. */
  restart(): Promise<void>;
}

export interface InfluxdOptions {
  /** How long to wait for `GET /ping` to answer 204, in milliseconds. */
  startTimeoutMs?: number;
  /** The influxd binary. */
  binary?: string;
}

const DEFAULTS = {
  startTimeoutMs: 20_000,
  binary: 'influxd',
  /** After SIGTERM, how long influxd may take to shut down before SIGKILL, in milliseconds. */
  stopGraceMs: 5_000,
  /** How many fresh port pairs to try when a port was taken between picking and binding. */
  portAttempts: 3,
  /** How much of influxd's output to keep for error messages, in characters. */
  tailChars: 4_000,
};

/** Every influxd this process started and has not yet stopped: killed if the process exits. */
const live = new Set<ChildProcess>();
/** Every temp dir not yet removed: removed if the process exits. */
const dirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL and rmSync are.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

function configToml(dir: string, httpPort: number, rpcPort: number): string {
  // Everything that could listen elsewhere, write elsewhere or phone home is switched off.
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false
`;
}

export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxdHandle> {
  const opts = { ...DEFAULTS, ...options };
  installExitHook();
  const dataDir = await mkdtemp(join(tmpdir(), 'scanmesh-influxd-'));
  dirs.add(dataDir);
  const configPath = join(dataDir, 'influxd.toml');

  let port = 0;
  let child: ChildProcess | null = null;
  let lastError: unknown;
  for (let i = 0; i < opts.portAttempts && child === null; i += 1) {
    const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
    await writeFile(configPath, configToml(dataDir, httpPort, rpcPort));
    try {
      child = await launch(opts, configPath, httpPort);
      port = httpPort;
    } catch (err) {
      lastError = err;
      if (!String(err).includes('address already in use')) break;
    }
  }
  if (child === null) {
    rmSync(dataDir, { recursive: true, force: true });
    dirs.delete(dataDir);
    throw lastError;
  }

  let current: ChildProcess | null = child;
  const pause = async (): Promise<void> => {
    const running = current;
    current = null;
    if (running) await terminate(running, opts.stopGraceMs);
  };
  const resume = async (): Promise<void> => {
    if (current) return;
    current = await launch(opts, configPath, port);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    get pid() {
      return current?.pid ?? null;
    },
    pause,
    resume,
    restart: async () => {
      await pause();
      await resume();
    },
    stop: async () => {
      await pause();
      rmSync(dataDir, { recursive: true, force: true });
      dirs.delete(dataDir);
    },
  };
}

/** Spawn influxd and resolve once `/ping` answers 204; reject with its output tail otherwise. */
async function launch(
  opts: typeof DEFAULTS,
  configPath: string,
  httpPort: number,
): Promise<ChildProcess> {
  const child = spawn(opts.binary, ['run', '-config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-opts.tailChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));

  // Set by the event handlers; an object so the polling loop below reads the latest value.
  const state: { exited: string | null } = { exited: null };
  child.once('exit', (code, signal) => {
    state.exited = `exited (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => {
    state.exited = `could not start: ${err.message}`;
  });

  const deadline = Date.now() + opts.startTimeoutMs;
  while (Date.now() < deadline && state.exited === null) {
    if ((await pingStatus(httpPort)) === 204) return child;
    await sleep(100);
  }
  const why = state.exited ?? `did not answer GET /ping with 204 within ${opts.startTimeoutMs} ms`;
  await terminate(child, opts.stopGraceMs);
  throw new Error(`influxd on 127.0.0.1:${httpPort} ${why}; its output ends with:\n${tail}`);
}

function pingStatus(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(null));
    req.end();
  });
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  // No pid: spawn itself failed, there is nothing to kill and 'exit' may never come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
