import type { Command } from 'commander';
import { loadConfig, type Loaded } from '../config/load.ts';
import type { Spec } from '../config/spec.ts';

/** Add every key of a role to a command: flags, and help text that names the env var. */
export function addSpecOptions(cmd: Command, spec: Spec): Command {
  for (const k of spec) {
    const dflt = k.default === undefined ? '' : ` (default: ${JSON.stringify(k.default)})`;
    cmd.option(k.flag, `${k.describe} [${k.env}]${dflt}`);
  }
  return cmd.option('--config <file>', 'YAML config file [SCANMESH_CONFIG]');
}

/** commander's camelCase attribute for a flag such as `--broker-url <url>`. */
function attributeOf(flag: string): string {
  const long = flag.split(' ')[0]!.replace(/^--/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function configFrom<C>(cmd: Command, spec: Spec): Loaded<C> {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const k of spec) flags[k.key] = opts[attributeOf(k.flag)];
  const file = (opts.config as string | undefined) ?? process.env.SCANMESH_CONFIG;
  return loadConfig<C>(spec, { flags, env: process.env, ...(file ? { file } : {}) });
}
