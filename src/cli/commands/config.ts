import { Command } from 'commander';
import { masterSpec, workerSpec } from '../../config/roles.ts';
import { renderEffective } from '../../config/print.ts';
import { referenceTable } from '../../config/reference.ts';
import type { Spec } from '../../config/spec.ts';
import { ScanmeshError } from '../../errors.ts';
import { defaultWorkerId, defaultWorkerStateDir } from '../../worker/identity.ts';
import { addSpecOptions, attributeOf, configFrom, DEFAULT_CONFIG_FILES } from '../options.ts';

const ROLES = { worker: workerSpec, master: masterSpec } as const;
type Role = keyof typeof ROLES;

/**
 * `scanmesh config print --role R`: the config a `scanmesh R` started here with the same flags,
 * environment and files would run with, and where each value came from; secrets masked.
 * `scanmesh config reference`: every key of every role as a Markdown table (for the README).
 */
export function configCommand(): Command {
  const cmd = new Command('config').description('show the effective configuration, or all keys');

  const print = cmd
    .command('print')
    .description('print the effective config as YAML, each key with its source; secrets masked')
    .requiredOption('--role <role>', 'worker or master');
  // Both roles' flags, once each, so either role's command line can be checked as it stands.
  addSpecOptions(print, uniqueByFlag([...workerSpec, ...masterSpec]));
  print.action(() => {
    const role = roleOf(print.opts<{ role: string }>().role);
    const spec: Spec = ROLES[role];
    const own = new Set(spec.map((k) => k.flag));
    for (const k of Object.values(ROLES).flat()) {
      if (!own.has(k.flag) && print.opts()[attributeOf(k.flag)] !== undefined) {
        throw new ScanmeshError(
          'SCANMESH_BAD_CONFIG',
          `${k.flag.split(' ')[0]} is not a ${role} setting`,
        );
      }
    }
    const loaded = configFrom<Record<string, unknown>>(print, spec, {
      defaultFile: DEFAULT_CONFIG_FILES[role],
    });
    // What `scanmesh worker` would work out for itself, so "effective" means what will run.
    const derived =
      role === 'worker'
        ? {
            id: { value: defaultWorkerId(), how: 'primary MAC address, else the hostname' },
            stateDir: {
              value: defaultWorkerStateDir(),
              how: 'per-user data folder; /var/lib/scanmesh as root',
            },
          }
        : undefined;
    process.stdout.write(
      renderEffective(spec, role, { ...loaded, ...(derived ? { derived } : {}) }),
    );
  });

  cmd
    .command('reference')
    .description('print every configuration key of every role as a Markdown table')
    .action(() => console.log(referenceTable(ROLES)));
  return cmd;
}

function roleOf(role: string): Role {
  if (role === 'worker' || role === 'master') return role;
  throw new ScanmeshError('SCANMESH_BAD_CONFIG', `--role must be worker or master, not "${role}"`);
}

function uniqueByFlag(spec: Spec): Spec {
  const seen = new Set<string>();
  return spec.filter((k) => !seen.has(k.flag) && seen.add(k.flag));
}
