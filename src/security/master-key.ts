import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { link, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ScanmeshError } from '../errors.ts';
import { ensureDir, fsyncDir, writeFileAtomic } from '../storage/atomic-file.ts';
import { exists } from '../storage/exists.ts';

/**
 * The master's Ed25519 signing key, kept in its state directory next to the journal:
 *   master.key  PKCS#8 PEM, mode 0600: whoever reads it can make every worker run nmap
 *   master.pub  SPKI PEM, public: copied to each worker and pinned with `--master-key`
 * Created on first start and reused after, so workers stay pinned across master restarts.
 */
export const MASTER_KEY_FILE = 'master.key';
export const MASTER_PUB_FILE = 'master.pub';

export interface MasterKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Path of master.pub, for the log line that tells people what to copy to workers. */
  publicPath: string;
  /** `SHA256:<base64>` of the public key, for comparing keys by eye. */
  fingerprint: string;
  /** True when this call generated the key. */
  created: boolean;
}

export async function loadOrCreateMasterKey(stateDir: string): Promise<MasterKey> {
  const keyPath = join(stateDir, MASTER_KEY_FILE);
  const publicPath = join(stateDir, MASTER_PUB_FILE);
  await io(`create ${stateDir}`, () => ensureDir(stateDir));
  const created = await createIfMissing(keyPath);
  const privateKey = await readPrivateKey(keyPath);
  const publicKey = createPublicKey(privateKey);
  // Written from the private key on every start, so master.pub can never drift from master.key.
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFileAtomic(publicPath, pem);
  return { privateKey, publicKey, publicPath, fingerprint: fingerprint(publicKey), created };
}

/** A worker's pinned key: master.pub as the master wrote it. */
export async function loadMasterPublicKey(path: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw badKey(`master key file ${path} cannot be read (${why})`, err);
  }
  if (text.includes('PRIVATE KEY')) {
    // createPublicKey would happily derive the public half, and the signing key would spread.
    throw badKey(
      `${path} holds a private key: give workers ${MASTER_PUB_FILE}, never ${MASTER_KEY_FILE}`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (err) {
    throw badKey(`${path} is not a PEM public key (expected the master's ${MASTER_PUB_FILE})`, err);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw badKey(`${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  return key;
}

export function fingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Generate master.key unless it exists. The key is written to a temporary file created 0600
 * (chmod again in case of a umask quirk) and fsynced, then hard-linked to its name: link fails
 * if the name exists, so two masters starting at once in one state directory agree on one key,
 * and a crash leaves either no master.key or a complete one.
 */
async function createIfMissing(keyPath: string): Promise<boolean> {
  if (await exists(keyPath)) return false;
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tmp = `${keyPath}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  return io(`create ${keyPath}`, async () => {
    try {
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.chmod(0o600);
        await handle.writeFile(pem);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(tmp, keyPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
      await fsyncDir(dirname(keyPath));
      return true;
    } finally {
      await rm(tmp, { force: true });
    }
  });
}

async function readPrivateKey(keyPath: string): Promise<KeyObject> {
  const info = await io(`read ${keyPath}`, () => stat(keyPath));
  // Like ssh: a signing key others can read is as good as published, so refuse rather than use it.
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    throw badKey(`${keyPath} is readable by other users (mode ${mode}); run: chmod 600 ${keyPath}`);
  }
  const text = await io(`read ${keyPath}`, () => readFile(keyPath, 'utf8'));
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw badKey(`${keyPath} is not a PEM private key; move it away to generate a new one`, err);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw badKey(`${keyPath} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  return key;
}

async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScanmeshError) throw err;
    throw new ScanmeshError('SCANMESH_STORE_FAILED', `could not ${what}: ${String(err)}`, {
      cause: err,
    });
  }
}

function badKey(message: string, cause?: unknown): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_CONFIG', message, cause ? { cause } : undefined);
}
