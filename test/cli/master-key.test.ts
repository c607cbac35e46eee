import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMasterPublicKey } from '../../src/security/master-key.ts';
import { tempDir } from '../harness/in-process.ts';
import { masterArgs } from '../harness/mesh-processes.ts';
import { ScanmeshProcess } from '../harness/scanmesh-process.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function scanmesh(args: string[]) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const env = { ...process.env };
    delete env.SCANMESH_MASTER_KEY;
    delete env.SCANMESH_INSECURE_UNSIGNED_JOBS;
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The CLI's side of job signing: the master writes its key pair, workers must pin it. */
describe('master key on the command line', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let state: string;
  beforeAll(async () => {
    dir = await tempDir('key-cli');
    state = join(dir.path, 'master');
    const master = new ScanmeshProcess(
      masterArgs({ commands: join(dir.path, 'commands.txt'), stateDir: state }),
    );
    try {
      const line = await master.waitFor((l) => l.msg.startsWith('jobs are signed'));
      expect(line.publicKey).toBe(join(state, 'master.pub'));
      await master.waitFor((l) => l.msg === 'embedded broker listening');
    } finally {
      await master.kill('SIGTERM');
    }
  });
  afterAll(() => dir.remove());

  it('scanmesh master writes master.key (0600) and master.pub in its state directory', async () => {
    expect((await stat(join(state, 'master.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(state, 'master.pub'), 'utf8')).toMatch(
      /^-----BEGIN PUBLIC KEY-----/,
    );
    await expect(loadMasterPublicKey(join(state, 'master.pub'))).resolves.toBeDefined();
  });

  // Loopback only, and every one of these exits before it dials the broker.
  const worker = ['worker', '--broker-url', 'mqtt://127.0.0.1:1', '--id', 'w1'];

  it('a worker without --master-key refuses to start, saying how to fix it', async () => {
    const r = await scanmesh([...worker, '--state-dir', join(dir.path, 'w1')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^scanmesh: SCANMESH_BAD_CONFIG: --master-key FILE is required/);
    expect(r.stderr).toContain('--insecure-unsigned-jobs');
  });

  it('a worker refuses the private key, and --master-key with --insecure-unsigned-jobs', async () => {
    const privateKey = await scanmesh([...worker, '--master-key', join(state, 'master.key')]);
    expect(privateKey.code).toBe(2);
    expect(privateKey.stderr).toMatch(/SCANMESH_BAD_CONFIG: .*holds a private key/);
    const both = await scanmesh([
      ...worker,
      '--master-key',
      join(state, 'master.pub'),
      '--insecure-unsigned-jobs',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/SCANMESH_BAD_CONFIG: .*contradict/);
  });
});
