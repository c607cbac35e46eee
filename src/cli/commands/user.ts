import { Command } from 'commander';
import {
  addUser,
  DEFAULT_USERS_PATH,
  listUsers,
  removeUser,
  type Role,
} from '../../broker/users.ts';
import { ScanmeshError } from '../../errors.ts';
import { readSecret } from '../prompt.ts';

/**
 * `scanmesh user add|remove|list`: the embedded broker's users file (scrypt hashes, mode 0600).
 * Errors are ScanmeshErrors, so main.ts prints their code and exits 2.
 */
export function userCommand(): Command {
  const cmd = new Command('user').description(
    "manage the embedded broker's users (a worker's user name is its worker id)",
  );
  const usersOption = (c: Command) =>
    c.option('--users <file>', `users file [SCANMESH_USERS] (default: "${DEFAULT_USERS_PATH}")`);

  usersOption(
    cmd
      .command('add <name>')
      .description('add a user; the password comes from --password, SCANMESH_PASSWORD or a prompt')
      .requiredOption('--role <role>', 'worker or master')
      .option('--password <password>', 'the password (prefer the prompt: flags show in ps)')
      .option('--replace', "replace an existing user's role and password"),
  ).action(
    async (
      name: string,
      o: { role: string; password?: string; users?: string; replace?: true },
    ) => {
      const role = checkRole(o.role);
      const file = usersPath(o.users);
      // An empty SCANMESH_PASSWORD counts as unset, as it does for the worker's MQTT password.
      const fromEnv = process.env.SCANMESH_PASSWORD || undefined;
      const password = o.password ?? fromEnv ?? (await promptPassword(name));
      await addUser(file, name, role, password, { replace: o.replace === true });
      console.log(`${o.replace ? 'set' : 'added'} ${role} "${name}" in ${file}`);
    },
  );

  usersOption(cmd.command('remove <name>').description('remove a user')).action(
    async (name: string, o: { users?: string }) => {
      const file = usersPath(o.users);
      await removeUser(file, name);
      console.log(`removed "${name}" from ${file}`);
    },
  );

  usersOption(cmd.command('list').description('list user names and roles (never hashes)')).action(
    async (o: { users?: string }) => {
      const users = await listUsers(usersPath(o.users));
      const width = Math.max(4, ...users.map((u) => u.name.length));
      for (const u of users) console.log(`${u.name.padEnd(width)}  ${u.role}`);
    },
  );
  return cmd;
}

function usersPath(flag: string | undefined): string {
  return flag ?? process.env.SCANMESH_USERS ?? DEFAULT_USERS_PATH;
}

function checkRole(role: string): Role {
  if (role === 'worker' || role === 'master') return role;
  throw new ScanmeshError('SCANMESH_BAD_CONFIG', `--role must be worker or master, not "${role}"`);
}

/** On a terminal, ask twice: a typo in a hidden password would lock the worker out. */
async function promptPassword(name: string): Promise<string> {
  const first = await readSecret(`password for ${name}: `);
  if (!process.stdin.isTTY) return first;
  const again = await readSecret('again: ');
  if (again !== first) throw new ScanmeshError('SCANMESH_BAD_CONFIG', 'the passwords differ');
  return first;
}
