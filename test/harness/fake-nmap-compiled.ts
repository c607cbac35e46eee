import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE = fileURLToPath(new URL('./fake-nmap.ts', import.meta.url));

/**
 * The fake nmap compiled once to plain JavaScript in `dir`, with a launcher script like
 * test/harness/fake-nmap. A chaos run spawns it thousands of times, and under tsx each start costs
 * about 0.2 s of CPU against 0.06 s for plain node: on two cores that is minutes. It imports only
 * node builtins, so transpiling the one file is enough. Resolves with the launcher's path.
 */
export async function compileFakeNmap(dir: string): Promise<string> {
  const { outputText } = ts.transpileModule(await readFile(SOURCE, 'utf8'), {
    fileName: SOURCE,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const js = join(dir, 'fake-nmap.mjs');
  const launcher = join(dir, 'fake-nmap');
  await writeFile(js, outputText);
  // No core dumps: the `segv` poison kills it with SIGSEGV on purpose.
  await writeFile(launcher, `#!/usr/bin/env bash\nulimit -c 0\nexec node '${js}' "$@"\n`, {
    mode: 0o755,
  });
  return launcher;
}
