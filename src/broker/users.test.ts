import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHEAP_SCRYPT } from './testkit.ts';
import {
  DEFAULT_SCRYPT,
  addUser,
  hashPassword,
  listUsers,
  loadUsers,
  removeUser,
  verifyPassword,
  verifyPasswordAsync,
} from './users.ts';

let dir: string;
let path: string;
const cheap = { params: CHEAP_SCRYPT };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-users-'));
  // A directory that does not exist yet: addUser must create it.
  path = join(dir, 'broker', 'users.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('users file', () => {
  it('round-trips add, list and remove, keeping only hashes in a 0600 file', async () => {
    await addUser(path, 'pi-01', 'worker', 'correct horse', cheap);
    await addUser(path, 'master-a', 'master', 'battery staple', cheap);

    expect(await listUsers(path)).toEqual([
      { name: 'pi-01', role: 'worker' },
      { name: 'master-a', role: 'master' },
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('correct horse');
    expect(text).not.toContain('battery staple');

    const file = await loadUsers(path);
    expect(file.version).toBe(1);
    const pi = file.users[0]!;
    expect(pi.params).toEqual(CHEAP_SCRYPT);
    expect(verifyPassword(pi, 'correct horse')).toBe(true);
    expect(verifyPassword(pi, 'correct horsE')).toBe(false);
    expect(verifyPassword(pi, '')).toBe(false);
    expect(await verifyPasswordAsync(pi, 'correct horse')).toBe(true);
    expect(await verifyPasswordAsync(pi, 'battery staple')).toBe(false);

    await removeUser(path, 'pi-01');
    expect(await listUsers(path)).toEqual([{ name: 'master-a', role: 'master' }]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('never lists hashes or salts', async () => {
    await addUser(path, 'pi-01', 'worker', 'pw', cheap);
    const [summary] = await listUsers(path);
    expect(Object.keys(summary!).sort()).toEqual(['name', 'role']);
  });

  it('salts every hash: one password twice gives two different records', () => {
    const a = hashPassword('pi-01', 'worker', 'same', CHEAP_SCRYPT);
    const b = hashPassword('pi-01', 'worker', 'same', CHEAP_SCRYPT);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it('refuses a duplicate name unless replace is set', async () => {
    await addUser(path, 'pi-01', 'worker', 'old', cheap);
    await expect(addUser(path, 'pi-01', 'worker', 'new', cheap)).rejects.toMatchObject({
      code: 'SCANMESH_USER_EXISTS',
    });
    expect(verifyPassword((await loadUsers(path)).users[0]!, 'old')).toBe(true);

    await addUser(path, 'pi-01', 'master', 'new', { ...cheap, replace: true });
    const [user] = (await loadUsers(path)).users;
    expect(user!.role).toBe('master');
    expect(verifyPassword(user!, 'new')).toBe(true);
    expect(verifyPassword(user!, 'old')).toBe(false);
  });

  it('refuses names outside the worker-id alphabet and empty passwords', async () => {
    for (const name of ['', '-lead', 'a/b', 'a+b', '#', 'x'.repeat(65)]) {
      await expect(addUser(path, name, 'worker', 'pw', cheap)).rejects.toMatchObject({
        code: 'SCANMESH_BAD_CONFIG',
      });
    }
    await expect(addUser(path, 'pi-01', 'worker', '', cheap)).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
    });
  });

  it('reports removing an unknown user and reading a missing file', async () => {
    await expect(loadUsers(path)).rejects.toMatchObject({ code: 'SCANMESH_BAD_CONFIG' });
    await addUser(path, 'pi-01', 'worker', 'pw', cheap);
    await expect(removeUser(path, 'pi-02')).rejects.toMatchObject({
      code: 'SCANMESH_NO_SUCH_USER',
    });
  });

  it('refuses malformed files: unknown keys, duplicates, absurd scrypt costs', async () => {
    const good = hashPassword('pi-01', 'worker', 'pw', CHEAP_SCRYPT);
    const cases: unknown[] = [
      { version: 2, users: [] },
      { version: 1, users: [{ ...good, password: 'pw' }] },
      { version: 1, users: [good, good] },
      { version: 1, users: [{ ...good, params: { ...CHEAP_SCRYPT, N: 2 ** 24 } }] },
      { version: 1, users: [{ ...good, params: { ...CHEAP_SCRYPT, N: 1000 } }] },
      { version: 1, users: [{ ...good, role: 'admin' }] },
    ];
    for (const body of cases) {
      await writeFile(join(dir, 'bad.json'), JSON.stringify(body));
      await expect(loadUsers(join(dir, 'bad.json'))).rejects.toMatchObject({
        code: 'SCANMESH_BAD_CONFIG',
      });
    }
    await writeFile(join(dir, 'bad.json'), '{ not json');
    await expect(loadUsers(join(dir, 'bad.json'))).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
    });
  });

  it('hashes with the default cost unless told otherwise', async () => {
    await addUser(path, 'pi-01', 'worker', 'pw');
    const [user] = (await loadUsers(path)).users;
    expect(user!.params).toEqual(DEFAULT_SCRYPT);
    expect(Buffer.from(user!.hash, 'base64')).toHaveLength(DEFAULT_SCRYPT.keylen);
    expect(await verifyPasswordAsync(user!, 'pw')).toBe(true);
  });
});
