import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { workerSpec } from '../config/roles.ts';
import { addSpecOptions, configFileFor, configFrom } from './options.ts';

function workerCmd(args: string[]): Command {
  const cmd = addSpecOptions(new Command('worker'), workerSpec).exitOverride();
  cmd.action(() => undefined);
  cmd.parse(args, { from: 'user' });
  return cmd;
}

describe('the default config file', () => {
  it('is read when it exists and nothing else names a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scanmesh-options-'));
    const defaultFile = join(dir, 'worker.yml');
    await writeFile(defaultFile, 'broker:\n  url: mqtt://10.1.2.3:1883\n');
    const other = join(dir, 'other.yml');
    await writeFile(other, 'broker:\n  url: mqtt://10.4.5.6:1883\n');

    const fromDefault = configFrom<{ brokerUrl?: string }>(workerCmd([]), workerSpec, {
      defaultFile,
      env: {},
    });
    expect(fromDefault.config.brokerUrl).toBe('mqtt://10.1.2.3:1883');
    expect(fromDefault.file).toBe(defaultFile);
    expect(fromDefault.sources.brokerUrl).toBe('file');

    // SCANMESH_CONFIG and --config each replace the default file, they do not merge with it.
    const byEnv = configFrom<{ brokerUrl?: string }>(workerCmd([]), workerSpec, {
      defaultFile,
      env: { SCANMESH_CONFIG: other },
    });
    expect(byEnv.config.brokerUrl).toBe('mqtt://10.4.5.6:1883');
    const byFlag = configFrom<{ brokerUrl?: string }>(workerCmd(['--config', other]), workerSpec, {
      defaultFile,
      env: {},
    });
    expect(byFlag.file).toBe(other);
  });

  it('is skipped when missing; --config beats SCANMESH_CONFIG beats the default', () => {
    const none = () => false;
    const all = () => true;
    expect(configFileFor(undefined, {}, '/etc/scanmesh/worker.yml', none)).toBeUndefined();
    expect(configFileFor(undefined, {}, '/etc/scanmesh/worker.yml', all)).toBe(
      '/etc/scanmesh/worker.yml',
    );
    expect(configFileFor(undefined, { SCANMESH_CONFIG: '/x.yml' }, '/d.yml', all)).toBe('/x.yml');
    expect(configFileFor('/f.yml', { SCANMESH_CONFIG: '/x.yml' }, '/d.yml', all)).toBe('/f.yml');
    // An empty SCANMESH_CONFIG counts as unset, like every other SCANMESH_* variable.
    expect(configFileFor(undefined, { SCANMESH_CONFIG: '' }, '/d.yml', all)).toBe('/d.yml');
    expect(configFileFor(undefined, {}, undefined, all)).toBeUndefined();
  });
});
