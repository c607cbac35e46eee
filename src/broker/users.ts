import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ScanmeshError } from '../errors.ts';
import { WORKER_ID_PATTERN } from '../protocol/topics.ts';
import { ensureDir, replaceFile } from '../storage/atomic-file.ts';

/**
 * The embedded broker's accounts: one JSON file of scrypt hashes, never passwords. A worker's
 * username IS its worker id (the ACL derives its topics from it), so names use the worker-id
 * alphabet; masters share that alphabet so one rule covers every name.
 */
export const DEFAULT_USERS_PATH = 'broker/users.json';

export type Role = 'master' | 'worker';

/**
 * scrypt cost. N=2^15, r=8 needs 32 MiB and took ~93 ms per check on the 2-core dev box
 * (N=2^14: ~45 ms, N=2^16: ~200 ms): slow enough to make offline guessing of a stolen file
 * expensive, fast enough that a reconnecting fleet of Pis does not queue up at the broker.
 */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;
const SALT_BYTES = 16;

const scryptParams = z.strictObject({
  // Bounded so a hand-edited file cannot make the broker allocate gigabytes per CONNECT.
  N: z
    .number()
    .int()
    .min(2 ** 10)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  keylen: z.number().int().min(16).max(128),
});
export type ScryptParams = z.infer<typeof scryptParams>;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64');
const user = z.strictObject({
  name: z.string().regex(WORKER_ID_PATTERN, 'must use the worker-id alphabet'),
  role: z.enum(['master', 'worker']),
  salt: base64,
  hash: base64,
  params: scryptParams,
});
export type BrokerUser = z.infer<typeof user>;

const usersFile = z.strictObject({ version: z.literal(1), users: z.array(user) });
export type UsersFile = z.infer<typeof usersFile>;

/** What `listUsers` shows: enough to audit the file, nothing to attack it with. */
export interface UserSummary {
  name: string;
  role: Role;
}

export async function loadUsers(path: string = DEFAULT_USERS_PATH): Promise<UsersFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `users file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); create it with "scanmesh user add"`,
      { cause: err },
    );
  }
  return parseUsers(text, path);
}

export function parseUsers(text: string, source = 'users file'): UsersFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${source} is not JSON`, { cause: err });
  }
  const parsed = usersFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `${source}: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'invalid'}`,
    );
  }
  const seen = new Set<string>();
  for (const u of parsed.data.users) {
    if (seen.has(u.name)) {
      throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${source}: user "${u.name}" appears twice`);
    }
    seen.add(u.name);
  }
  return parsed.data;
}

export async function listUsers(path: string = DEFAULT_USERS_PATH): Promise<UserSummary[]> {
  const file = await loadUsers(path);
  return file.users.map((u) => ({ name: u.name, role: u.role }));
}

/** Hash `password` into a new user record (pure apart from the random salt). */
export function hashPassword(
  name: string,
  role: Role,
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): BrokerUser {
  if (!WORKER_ID_PATTERN.test(name)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `user name "${name}" must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit (a worker's user name is its worker id)`,
    );
  }
  if (password.length === 0) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `password for "${name}" must not be empty`);
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(password, salt, params.keylen, scryptOptions(params));
  return {
    name,
    role,
    salt: salt.toString('base64'),
    hash: hash.toString('base64'),
    params: { ...params },
  };
}

/**
 * Add a user, creating the file if needed. An existing name is refused unless `replace` is set,
 * so a typo cannot silently reset another worker's password.
 */
export async function addUser(
  path: string,
  name: string,
  role: Role,
  password: string,
  options: { replace?: boolean; params?: ScryptParams } = {},
): Promise<void> {
  const record = hashPassword(name, role, password, options.params);
  const file = await loadOrEmpty(path);
  const index = file.users.findIndex((u) => u.name === name);
  if (index >= 0 && !options.replace) {
    throw new ScanmeshError('SCANMESH_USER_EXISTS', `user "${name}" already exists in ${path}`);
  }
  if (index >= 0) file.users[index] = record;
  else file.users.push(record);
  await writeUsers(path, file);
}

export async function removeUser(path: string, name: string): Promise<void> {
  const file = await loadUsers(path);
  const users = file.users.filter((u) => u.name !== name);
  if (users.length === file.users.length) {
    throw new ScanmeshError('SCANMESH_NO_SUCH_USER', `user "${name}" is not in ${path}`);
  }
  await writeUsers(path, { ...file, users });
}

/**
 * Synchronous check, for tools and tests. The broker uses `verifyPasswordAsync`: a ~100 ms
 * scrypt on the event loop per CONNECT would let one guessing client stall every other client.
 */
export function verifyPassword(user: BrokerUser, password: string): boolean {
  const expected = Buffer.from(user.hash, 'base64');
  const actual = scryptSync(
    password,
    Buffer.from(user.salt, 'base64'),
    user.params.keylen,
    scryptOptions(user.params),
  );
  return equalHashes(expected, actual);
}

/** The same check on libuv's thread pool. */
export function verifyPasswordAsync(user: BrokerUser, password: string): Promise<boolean> {
  const expected = Buffer.from(user.hash, 'base64');
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      Buffer.from(user.salt, 'base64'),
      user.params.keylen,
      scryptOptions(user.params),
      (err, actual) => (err ? reject(err) : resolve(equalHashes(expected, actual))),
    );
  });
}

function equalHashes(expected: Buffer, actual: Buffer): boolean {
  // timingSafeEqual throws on a length mismatch; a hand-edited hash of the wrong length is a miss.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function scryptOptions(params: ScryptParams) {
  // Node's default maxmem (32 MiB) is just below what N=2^15, r=8 needs (128·N·r plus overhead).
  return { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
}

async function loadOrEmpty(path: string): Promise<UsersFile> {
  try {
    return parseUsers(await readFile(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [] };
    throw err;
  }
}

async function writeUsers(path: string, file: UsersFile): Promise<void> {
  try {
    await ensureDir(dirname(path));
    await replaceFile(path, async (handle) => {
      // chmod the temporary file before any hash is written: the renamed file is never readable
      // by others, whatever the umask.
      await handle.chmod(0o600);
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
    });
  } catch (err) {
    throw new ScanmeshError('SCANMESH_STORE_FAILED', `could not write ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}
