import { createInterface } from 'node:readline';
import { ScanmeshError } from '../errors.ts';

/**
 * Read a secret for the CLI. On a terminal: prompt on stderr and read keystrokes in raw mode, so
 * nothing is echoed (and nothing lands in shell history or `ps`, as `--password` would). Piped:
 * the first line of stdin, so scripts can do `printf '%s\n' "$PW" | scanmesh user add …`.
 */
export async function readSecret(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  return input.isTTY ? readHidden(prompt, input, output) : readFirstLine(input);
}

function readHidden(
  prompt: string,
  input: NodeJS.ReadStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  // Echo off before the prompt shows: whatever is typed once it is visible is never echoed.
  input.setRawMode(true);
  output.write(prompt);
  input.resume();
  input.setEncoding('utf8');
  let secret = '';
  return new Promise<string>((resolve, reject) => {
    const finish = (err: Error | null) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(secret);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        // Raw mode turns Ctrl-C and Ctrl-D into plain bytes; honour them as a person expects.
        if (ch === '\u0003' || (ch === '\u0004' && secret === '')) {
          return finish(new ScanmeshError('SCANMESH_BAD_CONFIG', 'no password entered'));
        }
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    input.on('data', onData);
  });
}

function readFirstLine(input: NodeJS.ReadStream): Promise<string> {
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  return new Promise<string>((resolve, reject) => {
    let done = false;
    lines.once('line', (line) => {
      done = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!done) {
        reject(new ScanmeshError('SCANMESH_BAD_CONFIG', 'no password given on stdin'));
      }
    });
  });
}
