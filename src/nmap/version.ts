import { execFile } from 'node:child_process';
import { ScanmeshError } from '../errors.ts';

const VERSION_TIMEOUT_MS = 10_000;
const VERSION_LINE = /^Nmap version (\S+)/m;

/** The installed nmap's version as it prints it, e.g. "7.93" or "7.95SVN". */
export function nmapVersion(nmapPath = 'nmap'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      nmapPath,
      ['--version'],
      { shell: false, timeout: VERSION_TIMEOUT_MS },
      (err, stdout) => {
        if (err !== null) {
          const reason = err.code === 'ENOENT' ? 'not found' : err.message;
          reject(
            new ScanmeshError(
              'SCANMESH_NMAP_FAILED',
              `nmap --version failed (${nmapPath}): ${reason}`,
              {
                cause: err,
              },
            ),
          );
          return;
        }
        const version = VERSION_LINE.exec(stdout)?.[1];
        if (version === undefined) {
          reject(
            new ScanmeshError(
              'SCANMESH_NMAP_FAILED',
              `${nmapPath} --version did not print "Nmap version …": ${stdout.slice(0, 200)}`,
            ),
          );
          return;
        }
        resolve(version);
      },
    );
  });
}
