import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Loaded } from '../config/load.ts';
import type { Spec } from '../config/spec.ts';

/**
 * Where a service reads its config when nothing names a file: what the installer writes
 * (src/deploy) and what systemd units point at. A worker started by hand on a Pi with no flags
 * therefore behaves like the installed service.
 */
export const DEFAULT_CONFIG_FILES = {
  worker: '/etc/scanmesh/worker.yml',
  master: '/etc/scanmesh/master.yml',
} as const;

/** Add every key of a role to a command: flags, and help text that names the env var. */
export function addSpecOptions(cmd: Command, spec: Spec, defaultFile?: string): Command {
  for (const k of spec) {
    const dflt = k.default === undefined ? '' : ` (default: ${JSON.stringify(k.default)})`;
    cmd.option(k.flag, `${k.describe} [${k.env}]${dflt}`);
  }
  const fallback = defaultFile ? ` (default: ${defaultFile} if it exists)` : '';
  return cmd.option('--config <file>', `YAML config file [SCANMESH_CONFIG]${fallback}`);
}

/** commander's camelCase attribute for a flag such as `--broker-url <url>`. */
export function attributeOf(flag: string): string {
  const long = flag.split(' ')[0]!.replace(/^--/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export interface ConfigFromOptions {
  /** Read this file when neither --config nor SCANMESH_CONFIG names one and it exists. */
  defaultFile?: string;
  env?: NodeJS.ProcessEnv;
  /** For tests: whether a path exists. */
  exists?: (path: string) => boolean;
}

/** The config file to read: --config, else SCANMESH_CONFIG, else the role's default if present. */
export function configFileFor(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  defaultFile: string | undefined,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  if (flag) return flag;
  if (env.SCANMESH_CONFIG) return env.SCANMESH_CONFIG;
  return defaultFile && exists(defaultFile) ? defaultFile : undefined;
}

export function configFrom<C>(
  cmd: Command,
  spec: Spec,
  o: ConfigFromOptions = {},
): Loaded<C> & { file?: string } {
  const env = o.env ?? process.env;
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const k of spec) flags[k.key] = opts[attributeOf(k.flag)];
  const file = configFileFor(opts.config as string | undefined, env, o.defaultFile, o.exists);
  const loaded = loadConfig<C>(spec, { flags, env, ...(file ? { file } : {}) });
  return { ...loaded, ...(file ? { file } : {}) };
}
