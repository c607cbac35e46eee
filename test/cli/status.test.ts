import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/broker/embedded.ts';
import type { RunningMaster } from '../../src/master/master.ts';
import type { Status } from '../../src/protocol/messages/status.ts';
import type { RunningWorker } from '../../src/worker/worker.ts';
import { closedPort } from '../harness/listeners.ts';
import {
  fakeNmap,
  loopbackBroker,
  memoryLog,
  tempDir,
  testMaster,
  testWorker,
  until,
} from '../harness/in-process.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function scanmesh(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('SCANMESH_')),
    );
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A running mesh in this process (real Aedes on loopback, the master, two workers with a fake
 * nmap) and `scanmesh status` as a separate process reading the master's retained status.
 * Three jobs: two finish at once, the third (`-p 2`, the fake nmap sleeps) keeps one worker busy.
 */
const NIGHTLY = '-sT -Pn -p 22 127.0.0.1';

/** The next 03:00 in this process's time zone, as cron reads "0 3 * * *". */
function nextThreeAm(now = new Date()): number {
  const at = new Date(now);
  at.setHours(3, 0, 0, 0);
  if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  return at.getTime();
}

describe('scanmesh status against a running mesh', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let master: RunningMaster;
  const workers: RunningWorker[] = [];
  let slowJob: string;

  beforeAll(async () => {
    dir = await tempDir('status');
    broker = await loopbackBroker();
    const nmap = await fakeNmap(dir.path);
    const commands = join(dir.path, 'commands.txt');
    await writeFile(
      commands,
      [
        '-sT -Pn -p 80 127.0.0.1',
        '-sT -Pn -p 443 127.0.0.1',
        '-sT -Pn -p 2 127.0.0.1',
        // Waits for 03:00: listed under the next runs, no job yet.
        `@cron "0 3 * * *" ${NIGHTLY}`,
        '',
      ].join('\n'),
    );
    const key = generateKeyPairSync('ed25519');
    master = await testMaster({
      broker,
      stateDir: join(dir.path, 'master'),
      commandsPath: commands,
      signingKey: key.privateKey,
      logger: memoryLog('warn').logger,
      helloIntervalMs: 150,
    });
    for (const id of ['pi-a', 'pi-b']) {
      workers.push(
        await testWorker({
          id,
          brokerPort: broker.port,
          stateDir: join(dir.path, id),
          masterKey: key.publicKey,
          nmapPath: nmap,
          logger: memoryLog('warn').logger,
          slots: 1,
        }),
      );
    }
    const counts = () => master.core.state.counts();
    await until(() => counts().done === 2 && counts().running === 1, 'two done, one running');
    slowJob = [...master.core.state.jobs.values()].find((j) => j.args.includes('2'))!.id;
    // Two more hello rounds: the retained status now shows this state.
    const round = master.core.state.round;
    await until(() => master.core.state.round >= round + 2, 'two hello rounds');
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await master?.stop();
    await broker?.close();
    await dir?.remove();
  });

  it('--json prints the retained S_STATUS: the right workers, current job and counts', async () => {
    const run = await scanmesh([
      'status',
      '--broker-url',
      `mqtt://127.0.0.1:${broker.port}`,
      '--json',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const s = JSON.parse(run.stdout) as Status;
    expect(s.kind).toBe('S_STATUS');
    expect(s.master).toBe('master');
    expect(s.jobs).toEqual({ pending: 0, running: 1, done: 2, failed: 0, removed: 0 });
    expect(s.backlog).toBe(0); // no InfluxDB: nothing waits for it
    expect(s.nextRuns).toEqual([
      {
        job: expect.stringMatching(/^j-[0-9a-f]{12}-1$/),
        command: `@cron "0 3 * * *" ${NIGHTLY}`,
        at: nextThreeAm(),
      },
    ]);
    expect(s.progress).toMatchObject({ ended: 2, total: 3 });
    expect(s.workers.map((w) => w.id).sort()).toEqual(['pi-a', 'pi-b']);
    const busy = s.workers.filter((w) => w.state === 'ACTIVE');
    expect(busy).toHaveLength(1);
    expect(busy[0]!.running).toEqual([{ job: slowJob, attempt: 1 }]);
    expect(s.workers.find((w) => w !== busy[0])!.state).toBe('WAITING');
    expect(s.workers.reduce((n, w) => n + w.jobsDone, 0)).toBe(2);
    for (const w of s.workers) {
      expect(w.counter).toBeLessThanOrEqual(1);
      expect(Date.now() - w.lastSeen).toBeLessThan(10_000);
    }
  });

  it('prints tables a person can read', async () => {
    const run = await scanmesh(['status', '--broker-url', `mqtt://127.0.0.1:${broker.port}`]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^master master · round \d+ · updated /);
    expect(run.stdout).not.toContain('STALE');
    const queue = lines.findIndex((l) => l.startsWith('PENDING'));
    expect(lines[queue + 1]!.split(/\s+/)).toEqual(['0', '1', '2', '0', '0', '0']);
    expect(run.stdout).toContain('progress 2/3 (66%)');
    const nextRun = lines.findIndex((l) => l.startsWith('NEXT RUN'));
    expect(lines[nextRun + 1]).toContain(new Date(nextThreeAm()).toISOString());
    const rows = lines.filter((l) => /^pi-[ab]\s/.test(l)).map((l) => l.split(/\s{2,}/));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(expect.arrayContaining(['ACTIVE', `${slowJob}#1`]));
    expect(rows[1]).toEqual(expect.arrayContaining(['WAITING', '-']));
  });

  it('--watch --json prints one line per update until interrupted', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'status', '--broker-url', `mqtt://127.0.0.1:${broker.port}`, '--watch', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: Status[] = [];
    let carry = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (carry + chunk).split('\n');
      carry = parts.pop() ?? '';
      for (const p of parts) lines.push(JSON.parse(p) as Status);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // The retained one, then fresh ones every hello round (150 ms).
    await until(() => lines.length >= 3, 'three status updates', 15_000);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const rounds = lines.map((l) => l.round);
    expect(rounds[2]!).toBeGreaterThan(rounds[0]!);
  });

  it('says so when no master publishes on the broker, and when there is no broker (exit 2)', async () => {
    const empty = await loopbackBroker();
    try {
      const none = await scanmesh([
        'status',
        '--broker-url',
        `mqtt://127.0.0.1:${empty.port}`,
        '--wait',
        '0.5',
      ]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('SCANMESH_NO_STATUS');
    } finally {
      await empty.close();
    }
    const port = await closedPort('127.0.0.1');
    const down = await scanmesh(['status', '--broker-url', `mqtt://127.0.0.1:${port}`]);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('SCANMESH_BROKER_UNREACHABLE');
    expect(down.stderr).toContain('connection refused');
  });
});
