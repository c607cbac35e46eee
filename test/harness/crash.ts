import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs `node --import tsx <script> ...args`, collects the complete lines it prints, and SIGKILLs it
 * (no chance to flush or clean up, as in a crash) as soon as `enough(lines)` says so. Resolves
 * with the lines once it is dead; rejects if it exits on its own, with its stderr.
 */
export function runAndKill(
  script: string,
  args: string[],
  enough: (lines: readonly string[]) => boolean,
): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (!killed && enough(lines)) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`${script} exited by itself (${code ?? signal}): ${stderr}`));
    });
  });
}
