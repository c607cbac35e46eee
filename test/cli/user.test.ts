import { spawn, spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadUsers, verifyPassword } from '../../src/broker/users.ts';
import { tempDir } from '../harness/in-process.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI, as a person or a script runs it; `input` is piped to its stdin. */
function scanmesh(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<Run>((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    if (!options.env?.SCANMESH_PASSWORD) delete env.SCANMESH_PASSWORD;
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

describe('scanmesh user', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let users: string;
  const user = async (name: string) => (await loadUsers(users)).users.find((u) => u.name === name);

  beforeAll(async () => {
    dir = await tempDir('user-cli');
    // A directory that does not exist yet: `user add` creates it.
    users = join(dir.path, 'broker', 'users.json');
  });
  afterAll(() => dir.remove());

  it('adds users from --password, SCANMESH_PASSWORD and piped stdin: hashes only, mode 0600', async () => {
    const byFlag = await scanmesh(
      ['user', 'add', 'pi-01', '--role', 'worker', '--password', 'flag pw', '--users', users],
      {},
    );
    expect(byFlag).toMatchObject({ code: 0, stderr: '' });
    expect(byFlag.stdout).toContain('added worker "pi-01"');
    const byEnv = await scanmesh(['user', 'add', 'pi-02', '--role', 'worker', '--users', users], {
      env: { SCANMESH_PASSWORD: 'env pw' },
    });
    expect(byEnv.code).toBe(0);
    const byPipe = await scanmesh(['user', 'add', 'boss', '--role', 'master', '--users', users], {
      input: 'piped pw\nnot this line\n',
    });
    expect(byPipe.code).toBe(0);

    expect((await stat(users)).mode & 0o777).toBe(0o600);
    const text = await readFile(users, 'utf8');
    for (const pw of ['flag pw', 'env pw', 'piped pw']) expect(text).not.toContain(pw);
    expect(verifyPassword((await user('pi-01'))!, 'flag pw')).toBe(true);
    expect(verifyPassword((await user('pi-02'))!, 'env pw')).toBe(true);
    expect(verifyPassword((await user('boss'))!, 'piped pw')).toBe(true);
    expect(verifyPassword((await user('boss'))!, 'not this line')).toBe(false);
  });

  it('lists names and roles, never hashes', async () => {
    const list = await scanmesh(['user', 'list', '--users', users]);
    expect(list.code).toBe(0);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)),
    ).toEqual([
      ['pi-01', 'worker'],
      ['pi-02', 'worker'],
      ['boss', 'master'],
    ]);
    const hash = (await user('pi-01'))!.hash;
    expect(list.stdout).not.toContain(hash);
  });

  it('refuses a duplicate with exit code 2 and the code on stderr, keeping the old password', async () => {
    const dup = await scanmesh(
      ['user', 'add', 'pi-01', '--role', 'worker', '--password', 'other', '--users', users],
      {},
    );
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/^scanmesh: SCANMESH_USER_EXISTS: /);
    expect(verifyPassword((await user('pi-01'))!, 'flag pw')).toBe(true);
  });

  it('refuses a bad role, a bad name and an empty stdin with SCANMESH_BAD_CONFIG', async () => {
    const runs = await Promise.all([
      scanmesh(['user', 'add', 'x', '--role', 'admin', '--password', 'p', '--users', users]),
      scanmesh(['user', 'add', '../x', '--role', 'worker', '--password', 'p', '--users', users]),
      scanmesh(['user', 'add', 'x', '--role', 'worker', '--users', users], { input: '' }),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^scanmesh: SCANMESH_BAD_CONFIG: /);
    }
    expect(await user('x')).toBeUndefined();
  });

  it('removes a user; removing it again is SCANMESH_NO_SUCH_USER', async () => {
    expect((await scanmesh(['user', 'remove', 'pi-02', '--users', users])).code).toBe(0);
    expect(await user('pi-02')).toBeUndefined();
    expect(await user('pi-01')).toBeDefined();
    const again = await scanmesh(['user', 'remove', 'pi-02', '--users', users]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('SCANMESH_NO_SUCH_USER');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a terminal, prompts twice without echoing the password', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal; we type only after each prompt shows,
    // as a person would (keys typed earlier would be echoed by the terminal, not by us).
    const cli = `${process.execPath} ${BIN} user add tty-1 --role worker --users ${users}`;
    const env = { ...process.env };
    delete env.SCANMESH_PASSWORD;
    const child = spawn('script', ['-qec', cli, '/dev/null'], { env });
    let screen = '';
    const prompts: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      screen += c;
      for (const prompt of ['password for tty-1: ', 'again: ']) {
        if (screen.includes(prompt) && !prompts.includes(prompt)) {
          prompts.push(prompt);
          child.stdin.write('tty secret\r');
        }
      }
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(prompts).toHaveLength(2);
    expect(screen).not.toContain('tty secret');
    expect(verifyPassword((await user('tty-1'))!, 'tty secret')).toBe(true);
  });
});
