import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ScanmeshError } from '../errors.ts';

const MIN_NODE: [number, number] = [20, 19];

/**
 * What must hold before a unit can run this checkout: it is complete (`npm ci` has run) and,
 * when the unit runs this very node, node is new enough. Raspberry Pi OS (bookworm) ships node
 * 18, which is too old: install node 20 or newer first (see the README).
 */
export function preflight(appDir: string, node: string, running = process): void {
  for (const need of ['src/cli/bin.js', 'node_modules/tsx/package.json']) {
    if (!existsSync(join(appDir, need))) {
      throw new ScanmeshError(
        'SCANMESH_INSTALL_FAILED',
        `${appDir} has no ${need}: point --app-dir at a scanmesh checkout and run "npm ci --omit=dev" there`,
      );
    }
  }
  if (node === running.execPath) {
    const [major, minor] = running.versions.node.split('.').map(Number) as [number, number];
    if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
      throw new ScanmeshError(
        'SCANMESH_INSTALL_FAILED',
        `node ${running.versions.node} is too old: scanmesh needs ${MIN_NODE.join('.')} or newer`,
      );
    }
  }
}
