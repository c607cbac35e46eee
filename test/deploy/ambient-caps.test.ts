import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { workerUnit } from '../../src/deploy/units.ts';
import { openListeners } from '../harness/listeners.ts';

/**
 * The worker unit's answer to "raw sockets without root": ambient CAP_NET_RAW/CAP_NET_ADMIN,
 * no_new_privs, NMAP_PRIVILEGED=1. Checked for real with setpriv (util-linux), which sets up a
 * process the way systemd does for that unit: nmap as an unprivileged user makes a SYN scan of a
 * port this test opens on 127.0.0.1, and fails without the capabilities. Needs root, setpriv and
 * nmap; skipped otherwise.
 */
const unit = workerUnit({
  node: '/usr/bin/node',
  appDir: '/opt/scanmesh',
  configFile: '/etc/scanmesh/worker.yml',
  envFile: '/etc/scanmesh/worker.env',
  user: 'scanmesh',
  stateDirectory: 'scanmesh',
});
const value = (key: string) =>
  unit
    .split('\n')
    .find((l) => l.startsWith(`${key}=`))!
    .slice(key.length + 1);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const canRun = process.getuid?.() === 0 && has('setpriv') && has('nmap');

describe.skipIf(!canRun)("the worker unit's capabilities, applied as systemd applies them", () => {
  // "CAP_NET_RAW CAP_NET_ADMIN" → "+net_raw,+net_admin"
  const caps = value('AmbientCapabilities')
    .split(/\s+/)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
    .join(',');
  const env = Object.fromEntries([value('Environment').split('=') as [string, string]]);

  const synScan = async (withCaps: boolean) => {
    const l = await openListeners('127.0.0.1', 1);
    try {
      const priv = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--no-new-privs'];
      if (withCaps) priv.push(`--inh-caps=${caps}`, `--ambient-caps=${caps}`);
      const args = [...priv, 'nmap', '-sS', '-n', '-Pn', '-p', String(l.ports[0]), '127.0.0.1'];
      return spawnSync('setpriv', args, { encoding: 'utf8', env: { ...process.env, ...env } });
    } finally {
      await l.close();
    }
  };

  it('lets nmap, as a user that is not root, SYN-scan under no_new_privs', async () => {
    expect(caps).toBe('+net_raw,+net_admin');
    expect(env).toEqual({ NMAP_PRIVILEGED: '1' });
    const run = await synScan(true);
    expect(run.stdout).toMatch(/\d+\/tcp\s+open/);
  });

  it('and without the capabilities the same scan is refused', async () => {
    const run = await synScan(false);
    expect(run.stdout).not.toMatch(/\/tcp\s+open/);
    expect(`${run.stdout}${run.stderr}`).toMatch(/raw socket|root privileges/i);
  });
});
