import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Captured nmap output of one host with three open ports: what a zero-work job replays. */
export const SMALL_FIXTURE = fileURLToPath(
  new URL('../../fixtures/nmap/tcp-connect.xml', import.meta.url),
);

/** Reports up to this size are printed by the shell itself; bigger ones by cat. */
const BUILTIN_PRINT_MAX = 1024 * 1024;

export interface FakeNmapOptions {
  /** Sleep this long whatever the targets, ms. */
  fixedMs?: number;
  /** And this long per target address (a /27 counts 32), ms: a scan that splits like nmap's. */
  perTargetMs?: number;
  /** The XML to print; the small fixture by default. */
  output?: string;
}

/**
 * A stand-in nmap as a bash script. The chaos suite's fake (test/harness/fake-nmap.ts) is a
 * Node program: each start costs ~60 ms of CPU, its delay is jittered ±50 % and does not grow with
 * the targets. Here 100 workers start scans at the same instant on two cores, and a split job must
 * take time in proportion to its targets, so the fake has to cost next to nothing and sleep
 * exactly. It answers `--version` like nmap, sleeps, then replays a captured report. It runs on
 * bash's builtins alone (read's timeout as the sleep, read and printf as cat) instead of starting
 * sh, sleep and cat per job. A report too big to hold in a shell variable is still printed by cat.
 */
export async function writeFakeNmap(dir: string, o: FakeNmapOptions = {}): Promise<string> {
  const path = join(dir, `fake-nmap-${o.fixedMs ?? 0}-${o.perTargetMs ?? 0}`);
  const output = o.output ?? SMALL_FIXTURE;
  const print =
    (await stat(output)).size > BUILTIN_PRINT_MAX
      ? `exec cat '${output}'`
      : `IFS= read -r -d '' report < '${output}'\nprintf '%s' "$report"`;
  const script = `#!/bin/bash
case " $* " in *" --version "*) echo "Nmap version 7.93 ( https://nmap.org ) [scanmesh bench fake]"; exit 0;; esac
n=0
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    -p|-oX|-e|--max-rate|--min-rate|--top-ports|--host-timeout|--max-retries|--scan-delay|--exclude|--script|--script-args) skip=1 ;;
    -*) ;;
    */*) n=$((n + (1 << (32 - \${a#*/})))) ;;
    *) n=$((n + 1)) ;;
  esac
done
ms=$((${o.fixedMs ?? 0} + n * ${o.perTargetMs ?? 0}))
# A read that times out: the pipe it waits on is held open for writing by this shell itself.
if [ "$ms" -gt 0 ]; then printf -v frac %03d $((ms % 1000)); read -rt "$((ms / 1000)).$frac" <> <(:); fi
${print}
`;
  await writeFile(path, script, { mode: 0o755 });
  return path;
}
