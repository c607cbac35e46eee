import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../../src/broker/testkit.ts';
import { freePort } from '../harness/free-port.ts';
import { masterArgs } from '../harness/mesh-processes.ts';
import { ScanmeshProcess } from '../harness/scanmesh-process.ts';

/** The TLS flags end to end: `scanmesh master --tls-cert/--tls-key`, `scanmesh worker --tls-ca`. */
describe('mqtts:// from the command line', () => {
  let pki: TestPki;
  let dir: string;
  let master: ScanmeshProcess;
  let tlsPort: number;
  const procs: ScanmeshProcess[] = [];

  const pem = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    pki = makeTestPki();
    dir = await mkdtemp(join(tmpdir(), 'scanmesh-tls-'));
    const commands = await pem('commands.txt', '');
    tlsPort = await freePort();
    master = new ScanmeshProcess(
      masterArgs({
        commands,
        stateDir: join(dir, 'master'),
        extra: [
          '--tls-cert',
          await pem('server.pem', pki.serverCert),
          '--tls-key',
          await pem('server.key', pki.serverKey),
          '--tls-port',
          String(tlsPort),
        ],
      }),
    );
    procs.push(master);
    const up = await master.waitFor((l) => l.msg === 'embedded broker listening', 20_000);
    expect(up.tlsPort).toBe(tlsPort);
  });

  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    pki?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const worker = (id: string, extra: string[]) => {
    const w = new ScanmeshProcess([
      'worker',
      '--broker-url',
      `mqtts://127.0.0.1:${tlsPort}`,
      '--id',
      id,
      '--state-dir',
      join(dir, id),
      '--master-key',
      join(dir, 'master', 'master.pub'),
      ...extra,
    ]);
    procs.push(w);
    return w;
  };

  it('a worker that trusts the CA joins over TLS', async () => {
    const w = worker('tls-ok', ['--tls-ca', await pem('ca.pem', pki.caCert)]);
    await w.waitFor((l) => l.msg === 'connected to broker', 20_000);
    await master.waitFor((l) => l.msg === 'worker joined' && l.worker === 'tls-ok', 20_000);
  });

  it('a worker that does not trust the certificate never connects, and says why', async () => {
    const w = worker('tls-untrusted', []);
    const err = await w.waitFor((l) => l.msg.startsWith('broker unreachable'), 20_000);
    expect(err.reason).toMatch(/^TLS error: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED)/);
    expect(
      master.lines.some((l) => l.msg === 'worker joined' && l.worker === 'tls-untrusted'),
    ).toBe(false);
  });
});
