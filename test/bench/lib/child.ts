import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root: children run with it as their working directory. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url));

export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/**
 * A TypeScript module of test/bench/child run in its own Node process, talking JSON over IPC. Load
 * that must not share the master's thread (simulated workers, real worker shells, a parser whose
 * peak RSS is the figure) runs in one of these.
 */
export class Child {
  readonly proc: ChildProcess;
  readonly name: string;
  private readonly inbox: ChildMessage[] = [];
  private waiters: { type: string; resolve: (m: ChildMessage) => void }[] = [];
  private exitReason: string | null = null;
  readonly exited: Promise<void>;

  /** `nodeFlags`: options for node itself (V8's heap options), ahead of the TypeScript loader. */
  constructor(
    module: string,
    config: unknown,
    name = module,
    env: NodeJS.ProcessEnv = {},
    nodeFlags: readonly string[] = [],
  ) {
    this.name = name;
    const path = fileURLToPath(new URL(`../child/${module}.ts`, import.meta.url));
    this.proc = fork(path, [JSON.stringify(config)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      execArgv: [...nodeFlags, '--import', TSX],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: ChildMessage) => {
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i < 0) return void this.inbox.push(m);
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(m);
    });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        this.exitReason = `exited (${signal ?? code})`;
        resolve();
      }),
    );
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  send(message: ChildMessage): void {
    if (this.proc.connected) this.proc.send(message);
  }

  /** The next message of this type (one that already arrived counts). */
  next<M extends ChildMessage>(type: string, timeoutMs = 120_000): Promise<M> {
    const i = this.inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as M);
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      const fail = (why: string) => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: waiting for "${type}": ${why}`));
      };
      const waiter = {
        type,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m as M);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(() => {
        clearTimeout(timer);
        if (this.waiters.includes(waiter)) fail(this.exitReason ?? 'exited');
      });
    });
  }

  /** Ask it to stop and wait; SIGKILL if it does not go within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitReason !== null) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc.kill(signal);
  }
}

const live = new Set<Child>();
// A bench that dies must not leave thousands of MQTT clients or workers behind.
process.once('exit', () => {
  for (const c of live) c.proc.kill('SIGKILL');
});

/** For children: the JSON config the parent passed, and a typed `send`. */
export function childConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Resolves once the message is handed to the IPC channel, so an exit right after keeps it. */
export function toParent(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** A child goes when its parent goes, however the parent went. */
export function exitWithParent(onStop: () => Promise<void>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ChildMessage) => {
    if (m.type !== 'stop') return;
    onStop()
      .catch((err: unknown) => console.error(err))
      .finally(() => process.exit(0));
  });
}
