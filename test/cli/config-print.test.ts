import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import { tempDir } from '../harness/in-process.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function scanmesh(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // Only what the test sets: a SCANMESH_* in the developer's shell must not leak in.
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('SCANMESH_')),
    );
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `section.key` → the trailing comment `config print` put after the value (its source). */
function sourcesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return out;
  for (const section of doc.contents.items) {
    if (!isPair(section) || !isScalar(section.key) || !isMap(section.value)) continue;
    for (const item of section.value.items) {
      if (!isPair(item) || !isScalar(item.key)) continue;
      out[`${String(section.key.value)}.${String(item.key.value)}`] =
        (item.value as Node | null)?.comment?.trim() ?? '';
    }
  }
  return out;
}

describe('scanmesh config print', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let workerFile: string;
  let masterFile: string;
  beforeAll(async () => {
    dir = await tempDir('config-print');
    workerFile = join(dir.path, 'worker.yml');
    await writeFile(
      workerFile,
      [
        'broker:',
        '  url: mqtt://10.9.9.9:1883', // file only
        '  username: from-file', // file, beaten by env
        '  password: file-secret', // file, beaten by env, beaten by the flag
        'worker:',
        '  max_concurrent_scans: 2', // file, beaten by env, beaten by the flag
        'scanning:',
        '  scope: [10.9.0.0/16]',
        '',
      ].join('\n'),
    );
    masterFile = join(dir.path, 'master.yml');
    await writeFile(
      masterFile,
      'influx:\n  url: http://grafana:influx-secret@127.0.0.1:8086\n  password: influx-file-secret\n',
    );
  });
  afterAll(() => dir.remove());

  it('shows flags > env > file > defaults, naming the source of every key', async () => {
    const run = await scanmesh(
      ['config', 'print', '--role', 'worker', '--slots', '4', '--password', 'flag-secret'],
      {
        SCANMESH_CONFIG: workerFile,
        SCANMESH_USERNAME: 'from-env',
        SCANMESH_PASSWORD: 'env-secret',
        SCANMESH_SLOTS: '3',
      },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const values = parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(values.broker).toMatchObject({
      url: 'mqtt://10.9.9.9:1883',
      username: 'from-env',
      password: '****',
      topic_root: 'scanmesh/v1/',
      master_key: null,
    });
    expect(values.worker!.max_concurrent_scans).toBe(4);
    expect(values.scanning!.scope).toEqual(['10.9.0.0/16']);
    expect(sourcesOf(run.stdout)).toMatchObject({
      'broker.url': 'file',
      'broker.username': 'env SCANMESH_USERNAME',
      'broker.password': 'flag --password',
      'broker.topic_root': 'default',
      'broker.master_key': 'unset',
      'worker.max_concurrent_scans': 'flag --slots',
      'worker.resend_after': 'default',
      'scanning.scope': 'file',
    });
    expect(run.stdout).toContain(`# file: ${workerFile}`);
    for (const secret of ['flag-secret', 'env-secret', 'file-secret']) {
      expect(run.stdout).not.toContain(secret);
    }
  });

  it('masks secrets and passwords inside URLs for the master, from --config', async () => {
    const run = await scanmesh(['config', 'print', '--role', 'master', '--config', masterFile]);
    expect(run.code).toBe(0);
    const values = parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(values.influx).toMatchObject({
      url: 'http://grafana:****@127.0.0.1:8086',
      password: '****',
      database: 'scanmesh',
    });
    expect(run.stdout).not.toContain('influx-secret');
    expect(run.stdout).not.toContain('influx-file-secret');
    expect(sourcesOf(run.stdout)['influx.password']).toBe('file');
  });

  it("refuses another role's flag and a bad value, naming the key (exit 2)", async () => {
    const wrongRole = await scanmesh(['config', 'print', '--role', 'worker', '--port', '1884']);
    expect(wrongRole.code).toBe(2);
    expect(wrongRole.stderr).toContain('SCANMESH_BAD_CONFIG: --port is not a worker setting');
    const bad = await scanmesh(['config', 'print', '--role', 'worker'], { SCANMESH_SLOTS: 'many' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--slots (env SCANMESH_SLOTS)');
  });

  it('prints a reference row for every key of both roles', async () => {
    const run = await scanmesh(['config', 'reference']);
    expect(run.code).toBe(0);
    for (const key of ['broker.url', 'broker.master_key', 'influx.password', 'log.level']) {
      expect(run.stdout).toContain(`| \`${key}\` |`);
    }
  });
});
