import { spawn } from 'node:child_process';
import { nowMs } from './stats.ts';

/**
 * Runs nmap (or a fake) as a person would, with `-oX -` as the worker adds it, and resolves with
 * the wall time from spawn to exit, ms. Output is read and dropped.
 */
export function runPlain(nmapPath: string, args: readonly string[]): Promise<number> {
  const started = nowMs();
  return new Promise((resolve, reject) => {
    const child = spawn(nmapPath, [...args, '-oX', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(nowMs() - started);
      else reject(new Error(`${nmapPath} ${args.join(' ')} exited ${code}: ${stderr.slice(-300)}`));
    });
  });
}
