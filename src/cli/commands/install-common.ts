import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { t } from '../../config/spec.ts';
import { ScanmeshError } from '../../errors.ts';
import type { Action } from '../../deploy/actions.ts';
import { applyActions } from '../../deploy/apply.ts';
import { probeHost } from '../../deploy/facts.ts';
import type { HostFacts } from '../../deploy/common.ts';
import { preflight } from '../../deploy/preflight.ts';

/** This checkout: what the unit runs unless --app-dir names another. */
export const THIS_CHECKOUT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

export interface InstallFlags {
  dryRun?: true;
  prefix: string;
  appDir: string;
  node: string;
  start: boolean;
}

/** The options both installers share. */
export function addInstallOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'print every step (commands, files with their content); change nothing')
    .option(
      '--prefix <dir>',
      'write the files under this directory instead of / and run no command (for inspection or images)',
      '/',
    )
    .option('--app-dir <dir>', 'the scanmesh checkout the service runs', THIS_CHECKOUT)
    .option('--node <path>', 'the node binary the service runs', process.execPath)
    .option('--no-start', 'enable the service for the next boot but do not (re)start it now');
}

/** Probe, plan, and print or apply. */
export async function install(flags: InstallFlags, plan: (facts: HostFacts) => Action[]) {
  preflight(flags.appDir, flags.node);
  const actions = plan(probeHost(flags.prefix));
  await applyActions(actions, {
    prefix: flags.prefix,
    dryRun: flags.dryRun === true,
    out: (line) => console.log(line),
  });
}

/** A comma-separated list of CIDRs, validated like the config key. */
export function cidrList(flag: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parsed = t.list().safeParse(value);
  if (!parsed.success) throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${flag}: not a list`);
  return parsed.data;
}

export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${flag}: "${value}" is not a positive integer`);
  }
  return n;
}
