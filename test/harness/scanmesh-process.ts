import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * A `scanmesh` CLI process for end-to-end tests: real process, real flags, its pino JSON lines
 * parsed as they come so a test can wait for what the process says it did.
 */
export class ScanmeshProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private waiters: {
    test: (l: LogLine) => boolean;
    resolve: (l: LogLine) => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let carry = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (carry + chunk).split('\n');
      carry = parts.pop() ?? '';
      for (const p of parts) this.onLine(p);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    running.add(this);
    void this.exited.then(({ code, signal }) => {
      running.delete(this);
      const err = new Error(
        `scanmesh ${args[0]} exited (${signal ?? code}); stderr: ${this.stderr.join('').slice(-2000)}`,
      );
      for (const w of this.waiters) w.reject(err);
      this.waiters = [];
    });
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitFor(test: (l: LogLine) => boolean, timeoutMs = 30_000, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out waiting for ${what}; last lines: ${this.lines
              .slice(-8)
              .map((l) => JSON.stringify(l))
              .join('\n')}; stderr: ${this.stderr.join('').slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  private onLine(raw: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      return;
    }
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }
}

const running = new Set<ScanmeshProcess>();
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});
