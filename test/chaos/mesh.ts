import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../harness/free-port.ts';
import { startMosquitto, type MosquittoHandle } from '../harness/mosquitto.ts';
import { ScanmeshProcess } from '../harness/scanmesh-process.ts';
import type { BrokerMode } from './options.ts';

export interface MeshOptions {
  /** Holds commands.txt, the master's and each worker's state dir, and the logs. */
  dir: string;
  commandsPath: string;
  broker: BrokerMode;
  workers: number;
  nmapPath: string;
  influxUrl: string;
  influxDb: string;
  jobTimeoutS: number;
  maxAttempts: number;
  /** Extra environment for the workers (and so for their nmap). */
  workerEnv: NodeJS.ProcessEnv;
}

/** How long a (re)started master may take to replay its journal and say so. */
const MASTER_START_MS = 60_000;

/**
 * The mesh as separate `scanmesh` processes: one master, N workers, and in mosquitto mode an
 * external broker. Kills are SIGKILL (no chance to flush anything), restarts reuse the same state
 * dir, port and worker id. A process that exits without being killed is a finding: it is noted in
 * `unexpectedExits`. Each process's log lines are saved under logs/ when it goes away.
 */
export class Mesh {
  readonly unexpectedExits: string[] = [];
  readonly brokerUrl: string;
  private readonly o: MeshOptions;
  private readonly mosquitto: MosquittoHandle | null;
  private readonly embeddedPort: number;
  private master: ScanmeshProcess | null = null;
  private readonly workers: (ScanmeshProcess | null)[];
  /** Processes we are killing or stopping on purpose. */
  private readonly expected = new WeakSet<ScanmeshProcess>();
  private generation = 0;

  private constructor(o: MeshOptions, mosquitto: MosquittoHandle | null, embeddedPort: number) {
    this.o = o;
    this.mosquitto = mosquitto;
    this.embeddedPort = embeddedPort;
    this.brokerUrl = mosquitto?.url ?? `mqtt://127.0.0.1:${embeddedPort}`;
    this.workers = Array.from({ length: o.workers }, () => null);
  }

  static async start(o: MeshOptions): Promise<Mesh> {
    await mkdir(join(o.dir, 'logs'), { recursive: true });
    const mosquitto = o.broker === 'mosquitto' ? await startMosquitto() : null;
    const mesh = new Mesh(o, mosquitto, mosquitto ? 0 : await freePort());
    await mesh.startMaster();
    for (let i = 0; i < o.workers; i++) mesh.startWorker(i);
    return mesh;
  }

  get masterStateDir(): string {
    return join(this.o.dir, 'master');
  }

  /** Worker id → its state dir. */
  workerStateDirs(): Map<string, string> {
    return new Map(this.workers.map((_, i) => [workerId(i), join(this.o.dir, workerId(i))]));
  }

  /** Starts the master and resolves once it has replayed its journal. */
  async startMaster(): Promise<void> {
    const broker =
      this.mosquitto !== null
        ? ['--broker-url', this.mosquitto.url]
        : ['--allow-anonymous', '--bind', '127.0.0.1', '--port', String(this.embeddedPort)];
    const master = this.spawn('master', [
      'master',
      ...broker,
      '--commands',
      this.o.commandsPath,
      '--state-dir',
      this.masterStateDir,
      '--influx-url',
      this.o.influxUrl,
      '--influx-db',
      this.o.influxDb,
      '--hello-interval',
      '1',
      '--job-timeout',
      String(this.o.jobTimeoutS),
      '--max-attempts',
      String(this.o.maxAttempts),
    ]);
    this.master = master;
    await master.waitFor((l) => l.msg === 'state restored', MASTER_START_MS, 'the master to start');
  }

  async killMaster(): Promise<void> {
    const master = this.master;
    this.master = null;
    if (master) await this.kill(master, 'SIGKILL');
  }

  startWorker(i: number): void {
    if (this.workers[i]) return;
    this.workers[i] = this.spawn(
      workerId(i),
      [
        'worker',
        '--broker-url',
        this.brokerUrl,
        '--id',
        workerId(i),
        '--state-dir',
        join(this.o.dir, workerId(i)),
        '--nmap',
        this.o.nmapPath,
        // Unacknowledged results go out again on the next S_HELLO after 2 s, not 10.
        '--resend-after',
        '2',
        // Jobs are signed: pinned to the key the master wrote before it first connected.
        '--master-key',
        join(this.masterStateDir, 'master.pub'),
      ],
      this.o.workerEnv,
    );
  }

  async killWorker(i: number): Promise<void> {
    const worker = this.workers[i];
    this.workers[i] = null;
    if (worker) await this.kill(worker, 'SIGKILL');
  }

  /** Indexes of the workers running now. */
  aliveWorkers(): number[] {
    return this.workers.flatMap((w, i) => (w ? [i] : []));
  }

  async stopBroker(): Promise<void> {
    await this.mosquitto?.stop();
  }

  async startBroker(): Promise<void> {
    await this.mosquitto?.start();
  }

  /** Everything down cleanly (SIGTERM): workers first, so that nothing they hold is cut short. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w, i) => (w ? this.stopWorker(i) : undefined)));
    const master = this.master;
    this.master = null;
    if (master) await this.kill(master, 'SIGTERM');
    await this.mosquitto?.close();
  }

  private async stopWorker(i: number): Promise<void> {
    const worker = this.workers[i];
    this.workers[i] = null;
    if (worker) await this.kill(worker, 'SIGTERM');
  }

  private async kill(p: ScanmeshProcess, signal: NodeJS.Signals): Promise<void> {
    this.expected.add(p);
    await p.kill(signal);
  }

  private spawn(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ScanmeshProcess {
    const p = new ScanmeshProcess(args, env);
    const log = join(this.o.dir, 'logs', `${name}.${++this.generation}.jsonl`);
    void p.exited.then(async ({ code, signal }) => {
      if (!this.expected.has(p)) {
        const tail = p.stderr.join('').slice(-1000);
        this.unexpectedExits.push(`${name} exited by itself (${signal ?? code}): ${tail}`);
      }
      await writeFile(log, p.lines.map((l) => JSON.stringify(l)).join('\n') + '\n').catch(
        () => undefined, // the run dir may be gone already
      );
    });
    return p;
  }
}

export function workerId(i: number): string {
  return `w${i + 1}`;
}
