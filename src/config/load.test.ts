import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { loadConfig } from './load.ts';
import { masterSpec, workerSpec } from './roles.ts';

async function yamlFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scanmesh-config-'));
  const path = join(dir, 'config.yml');
  await writeFile(path, text);
  return path;
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isScanmeshError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('config: defaults → file → env → flags', () => {
  it('takes defaults when nothing is given', () => {
    const { config, sources } = loadConfig<Record<string, unknown>>(masterSpec, {
      flags: {},
      env: {},
    });
    expect(config).toMatchObject({
      commands: 'commands/commands.txt',
      port: 1883,
      bind: '0.0.0.0',
      helloInterval: 5,
      jobTimeout: 300,
      maxAttempts: 3,
      influxDb: 'scanmesh',
      scope: ['127.0.0.0/8', '::1/128'],
      allowAnonymous: false,
    });
    expect(config.influxUrl).toBeUndefined();
    expect(sources.port).toBe('default');
  });

  it('lets the file beat defaults, env beat the file and flags beat env', async () => {
    const file = await yamlFile(
      'broker:\n  port: 1999\n  bind: 127.0.0.5\nmaster:\n  hello_interval: 2\nscanning:\n  scope: [10.200.0.0/16]\n',
    );
    const { config, sources } = loadConfig<Record<string, unknown>>(masterSpec, {
      flags: { port: '2001' },
      env: {
        SCANMESH_PORT: '2000',
        SCANMESH_HELLO_INTERVAL: '3',
        SCANMESH_SCOPE: '127.0.0.0/8, ::1/128',
      },
      file,
    });
    expect(config).toMatchObject({ port: 2001, bind: '127.0.0.5', helloInterval: 3 });
    expect(config.scope).toEqual(['127.0.0.0/8', '::1/128']);
    expect(sources).toMatchObject({
      port: 'flag',
      bind: 'file',
      helloInterval: 'env',
      scope: 'env',
    });
  });

  it('names the key and where a bad value came from', () => {
    const fromEnv = codeOf(() =>
      loadConfig(masterSpec, { flags: {}, env: { SCANMESH_HELLO_INTERVAL: 'soon' } }),
    );
    expect(fromEnv.code).toBe('SCANMESH_BAD_CONFIG');
    expect(fromEnv.message).toContain('--hello-interval (env SCANMESH_HELLO_INTERVAL)');
    const fromFlag = codeOf(() =>
      loadConfig(workerSpec, { flags: { brokerUrl: 'http://example' }, env: {} }),
    );
    expect(fromFlag.message).toContain('--broker-url (flag --broker-url)');
    expect(fromFlag.message).toContain('mqtt://');
  });

  it('refuses unknown keys in the file, naming them', async () => {
    const file = await yamlFile('broker:\n  prot: 1883\n');
    const err = codeOf(() => loadConfig(masterSpec, { flags: {}, env: {}, file }));
    expect(err.code).toBe('SCANMESH_BAD_CONFIG');
    expect(err.message).toContain('unknown key broker.prot');
  });

  it('reads boolean flags from env spellings', () => {
    const on = loadConfig<{ allowAnonymous: boolean }>(masterSpec, {
      flags: {},
      env: { SCANMESH_ALLOW_ANONYMOUS: 'true' },
    });
    expect(on.config.allowAnonymous).toBe(true);
    const bad = codeOf(() =>
      loadConfig(masterSpec, { flags: {}, env: { SCANMESH_ALLOW_ANONYMOUS: 'perhaps' } }),
    );
    expect(bad.code).toBe('SCANMESH_BAD_CONFIG');
  });
});
