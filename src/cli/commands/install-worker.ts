import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { WORKER_PATHS, planWorkerInstall } from '../../deploy/worker-plan.ts';
import { secretFromFile } from '../../deploy/env-file.ts';
import { ScanmeshError } from '../../errors.ts';
import { fingerprint, loadMasterPublicKey } from '../../security/master-key.ts';
import {
  addInstallOptions,
  cidrList,
  install,
  positiveInt,
  type InstallFlags,
} from './install-common.ts';

interface Flags extends InstallFlags {
  brokerUrl: string;
  masterKey: string;
  tlsCa?: string;
  username?: string;
  passwordFile?: string;
  id?: string;
  scope?: string;
  exclude?: string;
  slots?: string;
  maxRate?: string;
}

/**
 * `sudo scanmesh install-worker …` on a Pi: nmap, a scanmesh system user, /etc/scanmesh/worker.yml,
 * the master's key, and a sandboxed systemd unit that starts the worker at every boot.
 */
export function installWorkerCommand(): Command {
  const cmd = new Command('install-worker').description(
    'install this machine as a worker that joins the mesh at boot (systemd; needs root)',
  );
  cmd
    .requiredOption(
      '--broker-url <url>',
      'the mesh broker, mqtt://MASTER:1883 or mqtts://MASTER:8883',
    )
    .requiredOption('--master-key <file>', "a copy of the master's <state-dir>/master.pub")
    .option('--tls-ca <file>', "for mqtts://: the CA that signed the broker's certificate")
    .option('--username <name>', 'MQTT user name (from `scanmesh user add` on the master)')
    .option('--password-file <file>', 'file holding the MQTT password (kept out of ps and argv)')
    .option('--id <id>', 'worker id (default: the user name, else from the MAC address)')
    .option('--scope <cidrs>', 'CIDRs this worker may scan (default: loopback only)')
    .option('--exclude <cidrs>', 'CIDRs it never scans')
    .option('--slots <n>', 'scans at once')
    .option('--max-rate <pps>', 'ceiling for nmap --max-rate');
  addInstallOptions(cmd);
  return cmd.action(async () => {
    const f = cmd.opts<Flags>();
    const key = await loadMasterPublicKey(f.masterKey);
    const password = f.passwordFile
      ? secretFromFile(await readText(f.passwordFile), `--password-file ${f.passwordFile}`)
      : undefined;
    if (password !== undefined && f.username === undefined) {
      throw new ScanmeshError('SCANMESH_BAD_CONFIG', '--password-file needs --username');
    }
    const tlsCaPem = f.tlsCa === undefined ? undefined : await readText(f.tlsCa);
    if (tlsCaPem !== undefined && !tlsCaPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ScanmeshError('SCANMESH_BAD_CONFIG', `--tls-ca ${f.tlsCa}: not a PEM certificate`);
    }
    console.log(`master key ${fingerprint(key)}: compare it with the master's log`);
    await install(f, (facts) =>
      planWorkerInstall(
        {
          brokerUrl: f.brokerUrl,
          masterKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
          ...(tlsCaPem !== undefined ? { tlsCaPem } : {}),
          ...(f.username !== undefined ? { username: f.username } : {}),
          ...(password !== undefined ? { password } : {}),
          ...(f.id !== undefined ? { id: f.id } : {}),
          ...optional('scope', cidrList('--scope', f.scope)),
          ...optional('exclude', cidrList('--exclude', f.exclude)),
          ...optional('slots', positiveInt('--slots', f.slots)),
          ...optional('maxRate', positiveInt('--max-rate', f.maxRate)),
          appDir: f.appDir,
          node: f.node,
          start: f.start,
        },
        facts,
      ),
    );
    if (!f.dryRun) {
      console.log(
        `\ninstalled. Config: ${WORKER_PATHS.config}; follow it with: journalctl -u scanmesh-worker -f`,
      );
    }
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { cause: err },
    );
  }
}
