import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMasterPublicKey, loadOrCreateMasterKey } from './master-key.ts';

describe('the master key', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created once, 0600, with master.pub beside it, and reused after', async () => {
    const state = join(dir, 'state');
    const first = await loadOrCreateMasterKey(state);
    expect(first.created).toBe(true);
    expect((await stat(join(state, 'master.key'))).mode & 0o777).toBe(0o600);
    const pub = await readFile(join(state, 'master.pub'), 'utf8');
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(pub).not.toContain('PRIVATE');

    const again = await loadOrCreateMasterKey(state);
    expect(again.created).toBe(false);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(await readFile(join(state, 'master.pub'), 'utf8')).toBe(pub);
    const pinned = await loadMasterPublicKey(first.publicPath);
    expect(pinned.equals(first.publicKey)).toBe(true);
  });

  it('two masters starting at once in one state directory agree on one key', async () => {
    const keys = await Promise.all([1, 2, 3].map(() => loadOrCreateMasterKey(dir)));
    expect(keys.filter((k) => k.created)).toHaveLength(1);
    expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(1);
  });

  it('refuses a master.key that others can read', async () => {
    await loadOrCreateMasterKey(dir);
    await chmod(join(dir, 'master.key'), 0o644);
    await expect(loadOrCreateMasterKey(dir)).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
      message: expect.stringContaining('chmod 600'),
    });
  });

  it('workers refuse a private key, a non-Ed25519 key, garbage and a missing file', async () => {
    await loadOrCreateMasterKey(dir);
    const bad = { code: 'SCANMESH_BAD_CONFIG' };
    await expect(loadMasterPublicKey(join(dir, 'master.key'))).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('private key'),
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    await expect(loadMasterPublicKey(join(dir, 'rsa.pub'))).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('not Ed25519'),
    });
    await writeFile(join(dir, 'junk.pub'), 'not a key\n');
    await expect(loadMasterPublicKey(join(dir, 'junk.pub'))).rejects.toMatchObject(bad);
    await expect(loadMasterPublicKey(join(dir, 'absent.pub'))).rejects.toMatchObject(bad);
  });
});
