import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { runNmap } from './runner.ts';
import { nmapVersion } from './version.ts';

const scratch = mkdtempSync(join(tmpdir(), 'scanmesh-version-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fakeNmap(name: string, body: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return isScanmeshError(err) ? err.code : String(err);
  }
  return 'resolved';
}

describe('nmapVersion', () => {
  it('agrees with the version the installed nmap writes into its XML', async () => {
    const version = await nmapVersion();
    expect(version).toMatch(/^\d+\.\d+/);
    const run = await runNmap({ args: ['-sn', '-n', '127.0.0.1'], timeoutMs: 60_000 });
    expect(run.meta?.nmapVersion).toBe(version);
  });

  it('reads development versions as printed', async () => {
    const nmap = fakeNmap(
      'nmap-svn',
      "printf 'Nmap version 7.95SVN ( https://nmap.org )\\nPlatform: x86_64-pc-linux-gnu\\n'",
    );
    await expect(nmapVersion(nmap)).resolves.toBe('7.95SVN');
  });

  it('rejects with SCANMESH_NMAP_FAILED for a missing, failing or unrecognisable binary', async () => {
    expect(await rejectionCode(nmapVersion(join(scratch, 'absent')))).toBe('SCANMESH_NMAP_FAILED');
    const failing = fakeNmap('nmap-fails', 'exit 2');
    expect(await rejectionCode(nmapVersion(failing))).toBe('SCANMESH_NMAP_FAILED');
    const other = fakeNmap('nmap-other', "echo 'Ncat: Version 7.93'");
    expect(await rejectionCode(nmapVersion(other))).toBe('SCANMESH_NMAP_FAILED');
  });
});
