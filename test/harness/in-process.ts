/**
 * The mesh's parts in this process, for integration tests that need to see inside them: an
 * anonymous embedded broker on 127.0.0.1 (port 0), workers and masters built like the CLI builds
 * them, each logging into memory, and a fake nmap that prints a captured XML report.
 */
import type { KeyObject } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded.ts';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import { startMaster, type MasterOptions, type RunningMaster } from '../../src/master/master.ts';
import { DEFAULT_POLICY } from '../../src/nmap/policy.ts';
import { startWorker, type RunningWorker } from '../../src/worker/worker.ts';

export type LogRecord = Record<string, unknown> & { level: number; msg: string };

export interface MemoryLog {
  logger: Logger;
  records: LogRecord[];
  /** Records with this error code. */
  withCode(code: string): LogRecord[];
}

/** A pino logger whose destination is an array: tests read what a part said, code by code. */
export function memoryLog(level: 'debug' | 'info' | 'warn' = 'debug'): MemoryLog {
  const records: LogRecord[] = [];
  const destination = { write: (line: string) => void records.push(JSON.parse(line)) };
  return {
    logger: pino({ level }, destination),
    records,
    withCode: (code) => records.filter((r) => r.code === code),
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `scanmesh-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function loopbackBroker(): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    port: 0,
    host: '127.0.0.1',
    allowAnonymous: true,
    logger: pino({ level: 'silent' }),
  });
}

const FIXTURE = fileURLToPath(new URL('../fixtures/nmap/tcp-connect.xml', import.meta.url));

/**
 * A stand-in nmap: answers `--version`, sleeps (until killed) when asked for port 2, and otherwise
 * prints a real nmap XML report (one host up, three open ports) whatever the arguments.
 */
export async function fakeNmap(dir: string): Promise<string> {
  const path = join(dir, 'fake-nmap');
  await writeFile(
    path,
    [
      '#!/bin/sh',
      'case " $* " in *" --version "*) echo "Nmap version 7.93 ( https://nmap.org )"; exit 0;; esac',
      'case " $* " in *" -p 2 "*) exec sleep 30;; esac',
      `exec cat '${FIXTURE}'`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

export interface TestWorkerOptions {
  id: string;
  brokerPort: number;
  stateDir: string;
  masterKey: KeyObject | null | undefined;
  nmapPath?: string;
  logger: Logger;
  slots?: number;
}

export function testWorker(o: TestWorkerOptions): Promise<RunningWorker> {
  return startWorker({
    id: o.id,
    topicRoot: 'scanmesh/v1/',
    broker: { url: `mqtt://127.0.0.1:${o.brokerPort}` },
    slots: o.slots ?? 4,
    stateDir: o.stateDir,
    nmapPath: o.nmapPath ?? 'nmap',
    policy: DEFAULT_POLICY,
    // Tests name targets by address; a hostname reaching the resolver is a test bug.
    resolve: (name) => Promise.reject(new Error(`unexpected lookup of ${name}`)),
    resendAfterMs: 10_000,
    clock: systemClock,
    logger: o.logger,
    onFatal: (err) => {
      throw err;
    },
    ...(o.masterKey !== undefined ? { masterKey: o.masterKey } : {}),
  });
}

export interface TestMasterOptions {
  broker: EmbeddedBroker;
  /** Reach the broker over TCP at this URL, as with an external broker, not in-process. */
  brokerUrl?: string;
  stateDir: string;
  commandsPath: string;
  signingKey: KeyObject | null;
  logger: Logger;
  helloIntervalMs?: number;
  onFinish?: MasterOptions['onFinish'];
}

/** A master attached in-process to the broker, as `scanmesh master` and the demo attach it. */
export function testMaster(o: TestMasterOptions): Promise<RunningMaster> {
  return startMaster({
    masterId: 'master',
    topicRoot: 'scanmesh/v1/',
    broker: o.brokerUrl ? { url: o.brokerUrl } : { local: o.broker },
    commandsPath: o.commandsPath,
    commandsPollMs: 100,
    stateDir: o.stateDir,
    helloIntervalMs: o.helloIntervalMs ?? 60_000,
    jobTimeoutS: 60,
    maxAttempts: 3,
    policy: DEFAULT_POLICY,
    influx: null,
    clock: systemClock,
    logger: o.logger,
    onFatal: (err) => {
      throw err;
    },
    signingKey: o.signingKey,
    ...(o.onFinish ? { onFinish: o.onFinish } : {}),
  });
}

/** Poll until `check` holds. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
