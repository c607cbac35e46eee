import { join } from 'node:path';
import { ScanmeshProcess } from './scanmesh-process.ts';

/**
 * The command lines the end-to-end tests start a mesh with: a master whose embedded broker
 * listens on loopback only (so anonymous clients are allowed) and workers pinned to its key.
 */
export interface MasterArgs {
  commands: string;
  stateDir: string;
  /** Embedded broker port; 0 lets the kernel pick (read it from `embedded broker listening`). */
  port?: number;
  influx?: { url: string; db: string };
  /** Seconds; left to the master's default when absent. */
  helloInterval?: number;
  extra?: string[];
}

export function masterArgs(o: MasterArgs): string[] {
  return [
    'master',
    '--port',
    String(o.port ?? 0),
    '--bind',
    '127.0.0.1',
    '--allow-anonymous',
    '--commands',
    o.commands,
    '--state-dir',
    o.stateDir,
    ...(o.influx ? ['--influx-url', o.influx.url, '--influx-db', o.influx.db] : []),
    ...(o.helloInterval === undefined ? [] : ['--hello-interval', String(o.helloInterval)]),
    ...(o.extra ?? []),
  ];
}

export function workerArgs(o: {
  brokerUrl: string;
  id: string;
  stateDir: string;
  /** The master's state dir: the worker pins its master.pub. */
  masterStateDir: string;
  extra?: string[];
}): string[] {
  return [
    'worker',
    '--broker-url',
    o.brokerUrl,
    '--id',
    o.id,
    '--state-dir',
    o.stateDir,
    '--master-key',
    join(o.masterStateDir, 'master.pub'),
    ...(o.extra ?? []),
  ];
}

/** Starts the master and resolves once its embedded broker listens, with the URL to reach it. */
export async function startLoopbackMaster(
  o: MasterArgs,
): Promise<{ master: ScanmeshProcess; brokerUrl: string }> {
  const master = new ScanmeshProcess(masterArgs(o));
  const listening = await master.waitFor((l) => l.msg === 'embedded broker listening');
  return { master, brokerUrl: `mqtt://127.0.0.1:${String(listening.port)}` };
}

/** Polls `probe` every 250 ms until `ok`, or fails naming `what` and the last value. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
